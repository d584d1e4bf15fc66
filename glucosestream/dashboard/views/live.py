"""The live view: the selected patient's readings as they stream in, and the alerts feed, where
an alert can be acknowledged (which stops an URGENT_LOW episode's repeats)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS
from bokeh.models.widgets.buttons import Button
from bokeh.models.widgets.inputs import Select
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.tables import TableColumn

from glucosestream.alerts.ports import StateConflict
from glucosestream.dashboard import figures
from glucosestream.dashboard.live import LiveAlert, LiveFeed
from glucosestream.dashboard.runner import Runner
from glucosestream.dashboard.units import Unit, convert_all
from glucosestream.dashboard.views.widgets import data_table, error_text, unit_group
from glucosestream.domain.alerts.acknowledgement import AcknowledgeResult, UnknownAlert

LIVE_ROLLOVER = 2016
"""Points kept on the live chart: a week of 5-minute readings."""
LIVE_PERIOD_MS = 1000
"""Milliseconds between the live view's ticks."""
ALERTS_KEPT = 200
"""Rows kept in the alerts table."""
ALERT_COLUMNS = (
    "time",
    "patient_id",
    "kind",
    "repeat",
    "severity",
    "glucose",
    "status",
    "alert_id",
)

Acknowledger = Callable[[str, str, str], AcknowledgeResult]
"""(patient pseudonym, alert_id, by) → the acknowledgement, or raises ``UnknownAlert`` or
``StateConflict``: ``PatientAlertControls.acknowledge`` over the patient-state store, chosen by
the composition root (a network call: the view runs it off the event loop)."""
ACKNOWLEDGED_BY = "dashboard"
ACKNOWLEDGED = "acknowledged"
SILENCED = "silenced (quiet hours)"
NOT_AVAILABLE = "Acknowledging alerts is not available on this dashboard."


class LiveView:
    """The selected patient's readings as they stream in, and the alerts feed.

    ``acknowledge`` (None: the button stays disabled) records an acknowledgement of the
    selected alert by ``dashboard``; ``runner`` runs it away from the event loop.
    """

    def __init__(
        self,
        live: LiveFeed,
        runner: Runner,
        patient: str | None,
        unit: Unit = Unit.MG_DL,
        *,
        acknowledge: Acknowledger | None = None,
    ) -> None:
        self.live = live
        self.runner = runner
        self.acknowledge = acknowledge
        # Alert ids this page saw acknowledged: a late duplicate delivery of one shows so too.
        self.acknowledged: set[str] = set()
        self.acknowledging = False
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
        self.alerts = ColumnDataSource({name: [] for name in ALERT_COLUMNS})
        self.acknowledge_button = Button(
            label="Acknowledge selected",
            button_type="warning",
            name="acknowledge",
            width=200,
            disabled=acknowledge is None,
        )
        self.acknowledge_status = Div(
            text="" if acknowledge else NOT_AVAILABLE, name="acknowledge-status", width=680
        )
        self.alerts_table = data_table(
            source=self.alerts,
            columns=[
                TableColumn(field="time", title="Local time", width=90),
                TableColumn(field="patient_id", title="Patient", width=300),
                TableColumn(field="kind", title="Alert", width=140),
                TableColumn(field="repeat", title="Repeat", width=60),
                TableColumn(field="severity", title="Severity", width=80),
                TableColumn(field="glucose", title="Glucose", width=60),
                TableColumn(field="status", title="Status", width=170),
                # alert_id stays in the source only: the acknowledgement's message shows it.
            ],
            width=900,
            height=240,
            name="alerts-table",
        )
        # A patch (a row acknowledged) and a stream past the rollover keep the table's row
        # indices, so BokehJS would not redraw it: the hook emits the change, as data_table's does
        # when the data is replaced.
        redraw = CustomJS(args={"view": self.alerts_table.view}, code="view.change.emit()")
        self.alerts.js_on_change("patching", redraw)
        self.alerts.js_on_change("streaming", redraw)
        self.plot = figures.live_figure(self.source, unit)
        self.count = Div(text="0 readings", name="live-count")
        self.layout = column(
            Div(text="<h2>Live</h2>"),
            row(self.patient_select, self.unit_group),
            self.status,
            self.count,
            self.plot,
            Div(text="<b>Alerts feed</b> (newest last)"),
            self.alerts_table,
            row(self.acknowledge_button, self.acknowledge_status),
        )
        self.patient_select.on_change("value", self._on_patient)
        self.unit_group.on_change("active", self._on_unit)
        self.acknowledge_button.on_click(self._acknowledge_selected)

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
            self.alerts.stream(alert_rows(alerts, self.acknowledged), rollover=ALERTS_KEPT)

    # ------------------------------------------------------------------------ acknowledging

    def _acknowledge_selected(self) -> None:
        acknowledge = self.acknowledge
        if acknowledge is None or self.acknowledging:
            return  # disabled; a click from a tampered client, or while one is answered
        selected = list(self.alerts.selected.indices)
        rows = self.alerts.data
        if len(selected) != 1 or not 0 <= selected[0] < len(rows["alert_id"]):
            self._say("Select one alert in the table, then acknowledge it.")
            return
        picked = SelectedAlert.of_row(rows, selected[0])
        if not picked.alert_id:
            self._say(f"{picked.label}: this record carries no alert id to acknowledge.")
            return
        # One acknowledgement at a time per page; the button says so by being disabled.
        self.acknowledging = True
        self.acknowledge_button.disabled = True
        self._say(f"{picked.label}: acknowledging…")
        self.runner.submit(
            lambda: acknowledge(picked.patient_id, picked.alert_id, ACKNOWLEDGED_BY),
            lambda result: self._acknowledged(picked, result),
            lambda error: self._not_acknowledged(picked, error),
        )

    def _acknowledged(self, picked: SelectedAlert, result: AcknowledgeResult) -> None:
        self._answered()
        self.acknowledged.add(picked.alert_id)
        # By id, not by the clicked index: rows may have rolled over while the call ran.
        patches = [
            (index, ACKNOWLEDGED)
            for index, alert_id in enumerate(self.alerts.data["alert_id"])
            if alert_id == picked.alert_id
        ]
        if patches:
            self.alerts.patch({"status": patches})
        self._say(acknowledgement_text(picked, result))

    def _not_acknowledged(self, picked: SelectedAlert, error: Exception) -> None:
        self._answered()
        if isinstance(error, UnknownAlert):
            self._say(f"{picked.label}: unknown alert (older than ~24 h?), nothing recorded.")
        elif isinstance(error, StateConflict):
            self._say(f"{picked.label}: state busy, retry.")
        else:
            self.acknowledge_status.text = error_text("Could not acknowledge", error)

    def _answered(self) -> None:
        self.acknowledging = False
        self.acknowledge_button.disabled = False

    def _say(self, text: str) -> None:
        self.acknowledge_status.text = html.escape(text)


def alert_rows(alerts: list[LiveAlert], acknowledged: set[str]) -> dict[str, Any]:
    """The alerts table's columns for ``alerts`` (``acknowledged``: ids known acknowledged)."""
    return {
        "time": [_wall_clock(a.local_ms).strftime("%a %H:%M") for a in alerts],
        "patient_id": [a.patient_id for a in alerts],
        "kind": [a.kind for a in alerts],
        "repeat": [repeat_label(a.repeat) for a in alerts],
        "severity": [a.severity for a in alerts],
        "glucose": [a.glucose_mg_dl for a in alerts],
        "status": [alert_status(a, acknowledged) for a in alerts],
        "alert_id": [a.alert_id for a in alerts],
    }


def repeat_label(repeat: int) -> str:
    return f"#{repeat}" if repeat else ""


def alert_status(alert: LiveAlert, acknowledged: set[str]) -> str:
    if alert.alert_id and alert.alert_id in acknowledged:
        return ACKNOWLEDGED
    return SILENCED if alert.silenced else ""


@dataclass(frozen=True, slots=True)
class SelectedAlert:
    """The row a click acknowledges, read when clicked (the table may change meanwhile)."""

    patient_id: str
    alert_id: str
    label: str

    @classmethod
    def of_row(cls, rows: Mapping[str, Any], index: int) -> SelectedAlert:
        repeat = f" {rows['repeat'][index]}" if rows["repeat"][index] else ""
        return cls(
            patient_id=str(rows["patient_id"][index]),
            alert_id=str(rows["alert_id"][index]),
            label=f"{rows['kind'][index]}{repeat} at {rows['time'][index]}",
        )


def acknowledgement_text(picked: SelectedAlert, result: AcknowledgeResult) -> str:
    ack = result.acknowledgement
    if result.new:
        return f"{picked.label} (alert {picked.alert_id}): acknowledged by {ack.by}."
    at = datetime.fromtimestamp(ack.acknowledged_at / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
    return (
        f"{picked.label} (alert {picked.alert_id}): already acknowledged by {ack.by} at {at} UTC."
    )


def _wall_clock(local_ms: int) -> datetime:
    """A patient's local wall-clock time (epoch ms already shifted by the offset), naive."""
    return datetime.fromtimestamp(local_ms / 1000, tz=UTC).replace(tzinfo=None)
