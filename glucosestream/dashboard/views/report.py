"""The report view: the AGP report of one patient and one 14-day period."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Plot
from bokeh.models.annotations import Title
from bokeh.models.widgets.inputs import Select
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.tables import TableColumn

from glucosestream.dashboard import figures, viewmodel
from glucosestream.dashboard.queries import Columns, LakeQueries
from glucosestream.dashboard.runner import Runner
from glucosestream.dashboard.units import Unit
from glucosestream.dashboard.viewmodel import REPORT_DAYS
from glucosestream.dashboard.views.widgets import (
    data_table,
    error_text,
    period_label,
    period_options,
    unit_group,
)


class UnknownPatient(LookupError):
    """No period of the marts has this patient: a mistyped or unknown id."""


@dataclass(frozen=True, slots=True)
class ReportData:
    patient_id: str
    period_end: date
    periods: list[date]
    period: dict[str, Any] | None
    agp: Columns
    episodes: Columns
    readings: Columns
    iglu: Columns


def load_report(queries: LakeQueries, patient_id: str, period_end: date | None) -> ReportData:
    """Every query the report needs (one patient, one 14-day period)."""
    periods = queries.patient_periods(patient_id)
    if period_end is None or period_end not in periods:
        if not periods:
            raise UnknownPatient(patient_id)
        period_end = periods[0]
    first_day = period_end - timedelta(days=REPORT_DAYS - 1)
    return ReportData(
        patient_id=patient_id,
        period_end=period_end,
        periods=periods,
        period=queries.patient_period(patient_id, period_end),
        agp=queries.agp(patient_id, period_end),
        episodes=queries.episodes(patient_id, period_end),
        readings=queries.daily_readings(patient_id, first_day, period_end),
        iglu=queries.iglu_metrics(patient_id, period_end),
    )


class ReportView:
    """The AGP report of one patient and one 14-day period."""

    def __init__(
        self,
        queries: LakeQueries,
        runner: Runner,
        patient: str | None,
        period: date | None,
        unit: Unit = Unit.MG_DL,
    ) -> None:
        self.queries = queries
        self.runner = runner
        self.unit = unit
        self.data: ReportData | None = None
        self.status = Div(text="Loading…", name="report-status")
        self.header = Div(text="", name="report-header")
        self.warning = Div(text="", name="report-warning", visible=False)
        self.patient_select = Select(title="Patient", options=[], width=320)
        self.period_select = Select(title="Period (14 days)", options=[], width=260)
        self.unit_group = unit_group(unit)
        self.stats = ColumnDataSource(figures.empty_columns("metric", "value", "goal", "met"))
        bar, labels = viewmodel.tir_bar({}, unit)
        self.bar = ColumnDataSource(bar)
        self.labels = ColumnDataSource(labels)
        self.agp = ColumnDataSource(viewmodel.agp_columns({}, unit))
        self.episodes = ColumnDataSource(
            figures.empty_columns("episode", "start", "duration_min", "extreme", "mean")
        )
        self.iglu = ColumnDataSource(figures.empty_columns("metric", "value", "reference"))
        today = date.today()
        self.panels = viewmodel.daily_panels({}, today - timedelta(days=REPORT_DAYS - 1), unit)
        self.panel_sources = [ColumnDataSource(p.columns) for p in self.panels]
        self.agp_plot = figures.agp_figure(self.agp, unit)
        self.daily = figures.daily_grid(self.panels, self.panel_sources, unit)
        # Hidden when there is no report to draw: empty charts (0 % in every band, daily panels
        # dated from today) would read as a patient's data. The parts sit directly in the page's
        # column and are visible from the start: the daily grid laid out inside a nested
        # column, or first laid out hidden, got plot frames of no size (blank panels).
        self.body_parts = (
            row(
                data_table(
                    source=self.stats,
                    columns=[
                        TableColumn(
                            field="metric", title="Glucose statistics and targets", width=230
                        ),
                        TableColumn(field="value", title="Value", width=170),
                        TableColumn(field="goal", title="Goal", width=80),
                        TableColumn(field="met", title="", width=70),
                    ],
                    width=560,
                    height=330,
                    name="stats-table",
                ),
                figures.tir_bar_figure(self.bar, self.labels),
            ),
            self.agp_plot,
            Div(text="<b>Daily glucose profiles</b> (target range shaded)"),
            self.daily,
            Div(text="<b>Glycaemic episodes</b>"),
            data_table(
                source=self.episodes,
                columns=[
                    TableColumn(field="episode", title="Episode"),
                    TableColumn(field="start", title="Start (local)"),
                    TableColumn(field="duration_min", title="Minutes"),
                    TableColumn(field="extreme", title="Nadir / peak"),
                    TableColumn(field="mean", title="Mean"),
                ],
                width=760,
                height=220,
                name="episodes-table",
            ),
            Div(
                text="<b>All metrics</b>: every output of every R iglu 4.3.0 metric function "
                "at its default arguments (<code>glucosestream metrics --profile iglu</code>), "
                "in iglu's units (glucose in mg/dL); empty where R gives NA"
            ),
            data_table(
                source=self.iglu,
                columns=[
                    TableColumn(field="metric", title="Metric (iglu name)", width=330),
                    TableColumn(field="value", title="Value", width=120),
                    TableColumn(field="reference", title="Reference", width=430),
                ],
                width=900,
                height=320,
                name="iglu-table",
            ),
        )
        self.layout = column(
            self.header,
            row(self.patient_select, self.period_select, self.unit_group),
            self.status,
            self.warning,
            *self.body_parts,
        )
        self.patient_select.on_change("value", self._on_patient)
        self.period_select.on_change("value", self._on_period)
        self.unit_group.on_change("active", self._on_unit)
        self._start(patient, period)

    def _start(self, patient: str | None, period: date | None) -> None:
        def work() -> tuple[list[str], str | None]:
            periods = self.queries.periods()
            if not periods:
                return [], None
            patients = list(self.queries.cohort(periods[0]).get("patient_id", []))
            return patients, patient or (patients[0] if patients else None)

        def apply(found: tuple[list[str], str | None]) -> None:
            patients, chosen = found
            if chosen is None:
                self._show_body(False)
                self.status.text = (
                    "No period metrics in the lake yet: the pipeline has not built the marts "
                    "(they appear after the first ELT run)."
                )
                return
            self.patient_select.options = sorted({*patients, chosen})
            self.patient_select.value = chosen  # triggers no load: handled below
            self.load(chosen, period)

        self.runner.submit(work, apply, self._failed)

    def load(self, patient: str, period: date | None) -> None:
        self.status.text = f"Loading the report of {html.escape(patient)}…"
        self.runner.submit(
            partial(load_report, self.queries, patient, period), self.show, self._failed
        )

    def _show_body(self, visible: bool) -> None:
        for part in self.body_parts:
            part.visible = visible

    def _failed(self, error: Exception) -> None:
        self._show_body(False)
        self.warning.visible = False
        if isinstance(error, UnknownPatient):
            self.status.text = (
                f"<b>Unknown patient</b>: {html.escape(str(error))} has no report in the lake."
            )
            return
        self.status.text = error_text("Could not load the report", error)

    def show(self, data: ReportData) -> None:
        self.data = data
        self.period_select.options = period_options(data.periods)
        self.period_select.value = data.period_end.isoformat()
        if self.patient_select.value != data.patient_id:
            self.patient_select.value = data.patient_id
        self.redraw()
        if data.period is None:
            self.status.text = (
                f"<b>No readings for this patient in this period</b> "
                f"({html.escape(data.patient_id)}, {period_label(data.period_end)})."
            )
            return
        self.status.text = (
            f"Showing {html.escape(data.patient_id)}, {period_label(data.period_end)}"
        )

    def redraw(self) -> None:
        data = self.data
        if data is None:
            return
        unit = self.unit
        self._show_body(data.period is not None)
        period = data.period or {}
        self.header.text = (
            f"<h2>AGP report — {html.escape(data.patient_id)}</h2>"
            f"<p>{period_label(data.period_end)} (patient's local days)</p>"
        )
        warning = None if data.period is None else viewmodel.data_sufficiency_warning(period)
        self.warning.text = (
            "" if warning is None else f'<b style="color:#b00">⚠ {html.escape(warning)}</b>'
        )
        self.warning.visible = warning is not None
        self.stats.data = viewmodel.statistics_rows(period, unit)
        bar, labels = viewmodel.tir_bar(period, unit)
        self.bar.data = bar
        self.labels.data = labels
        self.agp.data = viewmodel.agp_columns(data.agp, unit)
        first_day = data.period_end - timedelta(days=REPORT_DAYS - 1)
        panels = viewmodel.daily_panels(data.readings, first_day, unit)
        for plot, panel, source in zip(
            self.daily.children, panels, self.panel_sources, strict=True
        ):
            source.data = panel.columns
            title = getattr(plot[0], "title", None)
            if isinstance(title, Title):
                title.text = panel.title + (" (no data)" if panel.empty else "")
        self.episodes.data = viewmodel.episode_rows(data.episodes, unit)
        self.iglu.data = viewmodel.iglu_rows(data.iglu)

    def _on_patient(self, attr: str, old: Any, new: Any) -> None:
        if self.data is None or new == self.data.patient_id:
            return
        self.load(str(new), None)

    def _on_period(self, attr: str, old: Any, new: Any) -> None:
        if self.data is None or not new or new == self.data.period_end.isoformat():
            return
        self.load(self.data.patient_id, date.fromisoformat(str(new)))

    def _on_unit(self, attr: str, old: Any, new: Any) -> None:
        self.unit = list(Unit)[int(new)]
        figures.set_unit(self.agp_plot, self.unit)
        for child in self.daily.children:
            if isinstance(child[0], Plot):
                figures.set_unit(child[0], self.unit)
        self.redraw()
