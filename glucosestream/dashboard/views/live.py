"""The live view: the selected patient's readings as they stream in, and the alerts feed."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource
from bokeh.models.widgets.inputs import Select
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.tables import TableColumn

from glucosestream.dashboard import figures
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.units import Unit, convert_all
from glucosestream.dashboard.views.widgets import data_table, unit_group

LIVE_ROLLOVER = 2016
"""Points kept on the live chart: a week of 5-minute readings."""
LIVE_PERIOD_MS = 1000
"""Milliseconds between the live view's ticks."""


class LiveView:
    """The selected patient's readings as they stream in, and the alerts feed."""

    def __init__(self, live: LiveFeed, patient: str | None, unit: Unit = Unit.MG_DL) -> None:
        self.live = live
        self.unit = unit
        self.patient = patient
        self.cursor = 0
        self.alert_cursor = 0
        self.status = Div(text=live.status, name="live-status", width=900)
        options: list[str | tuple[Any, str]] = [patient] if patient else []
        self.patient_select = Select(
            title="Patient", options=options, value=patient or "", width=320
        )
        self.unit_group = unit_group(unit)
        self.source = ColumnDataSource({"local_time": [], "glucose": [], "trend": []})
        self.alerts = ColumnDataSource(
            {"time": [], "patient_id": [], "kind": [], "severity": [], "glucose": []}
        )
        self.plot = figures.live_figure(self.source, unit)
        self.count = Div(text="0 readings", name="live-count")
        self.layout = column(
            Div(text="<h2>Live</h2>"),
            row(self.patient_select, self.unit_group),
            self.status,
            self.count,
            self.plot,
            Div(text="<b>Alerts feed</b> (newest last)"),
            data_table(
                source=self.alerts,
                columns=[
                    TableColumn(field="time", title="Local time"),
                    TableColumn(field="patient_id", title="Patient", width=300),
                    TableColumn(field="kind", title="Alert"),
                    TableColumn(field="severity", title="Severity"),
                    TableColumn(field="glucose", title="Glucose"),
                ],
                width=900,
                height=240,
                name="alerts-table",
            ),
        )
        self.patient_select.on_change("value", self._on_patient)
        self.unit_group.on_change("active", self._on_unit)

    def _reset(self) -> None:
        self.cursor = 0
        self.source.data = {"local_time": [], "glucose": [], "trend": []}

    def _on_patient(self, attr: str, old: Any, new: Any) -> None:
        self.patient = str(new) or None
        self._reset()
        self.tick()

    def _on_unit(self, attr: str, old: Any, new: Any) -> None:
        self.unit = list(Unit)[int(new)]
        figures.set_unit(self.plot, self.unit)
        self._reset()
        self.tick()

    def tick(self) -> None:
        """The periodic callback: copy what the feed buffered since the last tick (in memory,
        never a network call on the event loop)."""
        live = self.live
        self.status.text = html.escape(live.status)
        patients = live.patients()
        if patients and set(patients) - set(self.patient_select.options):
            self.patient_select.options = sorted({*patients, *self.patient_select.options})
        if self.patient is None and patients:
            self.patient_select.value = patients[0]  # _on_patient streams its points
            return
        if self.patient is not None:
            points, self.cursor = live.readings_since(self.patient, self.cursor)
            if points:
                self.source.stream(
                    {
                        "local_time": [_wall_clock(p.local_ms) for p in points],
                        "glucose": convert_all([p.glucose_mg_dl for p in points], self.unit),
                        "trend": [p.trend for p in points],
                    },
                    rollover=LIVE_ROLLOVER,
                )
            count = len(self.source.data["glucose"])
            self.count.text = (
                f"{count} readings" if count else "waiting for this patient's next reading…"
            )
            if count:
                figures.follow(self.plot, list(self.source.data["local_time"]))
        alerts, self.alert_cursor = live.alerts_since(self.alert_cursor)
        if alerts:
            self.alerts.stream(
                {
                    "time": [_wall_clock(a.local_ms).strftime("%a %H:%M") for a in alerts],
                    "patient_id": [a.patient_id for a in alerts],
                    "kind": [a.kind for a in alerts],
                    "severity": [a.severity for a in alerts],
                    "glucose": [a.glucose_mg_dl for a in alerts],
                },
                rollover=200,
            )


def _wall_clock(local_ms: int) -> datetime:
    """A patient's local wall-clock time (epoch ms already shifted by the offset), naive."""
    return datetime.fromtimestamp(local_ms / 1000, tz=UTC).replace(tzinfo=None)
