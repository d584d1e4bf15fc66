"""The dashboard's views, built into a Bokeh document (``bokeh_app/main.py`` calls :func:`build`).

Views, chosen by the URL (``?view=…``): ``report`` (a patient's AGP report), ``cohort`` (triage
table and distributions), ``privacy`` (the cohort view with privacy mode on) and ``live``.
Queries run on the shared thread pool through a :class:`Runner`; their results are applied on
the document's next tick, so a slow query never blocks the server's event loop or another
session.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS, Plot
from bokeh.models.annotations import Title
from bokeh.models.widgets.buttons import Button, Toggle
from bokeh.models.widgets.groups import RadioButtonGroup
from bokeh.models.widgets.inputs import Select
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.sliders import Slider
from bokeh.models.widgets.tables import DataTable, NumberFormatter, TableColumn

from glucosestream.dashboard import figures, viewmodel
from glucosestream.dashboard.identity import LOCAL_VIEWER, Viewer
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.privacy import (
    CV_BOUNDS,
    MAX_RELEASE_EPSILON,
    TIR_BOUNDS,
    DpRelease,
    PrivacySession,
)
from glucosestream.dashboard.privacy_ledger import Balance, BudgetExhausted, PrivacyLedger
from glucosestream.dashboard.queries import Columns, LakeQueries
from glucosestream.dashboard.units import Unit, convert_all
from glucosestream.dashboard.viewmodel import CV_EDGES, REPORT_DAYS, TIR_EDGES

T = TypeVar("T")
VIEWS = ("report", "cohort", "privacy", "live")
LIVE_ROLLOVER = 2016
"""Points kept on the live chart: a week of 5-minute readings."""
LIVE_PERIOD_MS = 1000


class Runner(Protocol):
    """Runs ``work`` away from the event loop and hands its result to ``apply`` on it."""

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        fail: Callable[[Exception], None],
    ) -> None: ...


class ThreadRunner:
    """Production: the shared pool runs the query, the document's next tick applies it
    (``add_next_tick_callback`` is the thread-safe way into a session)."""

    def __init__(self, doc: Document, executor: Executor) -> None:
        self.doc = doc
        self.executor = executor

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        fail: Callable[[Exception], None],
    ) -> None:
        def done(future: Future[T]) -> None:
            if self.doc.session_context is None:
                return  # the page was closed while the query ran: nobody to show it to
            try:
                result = future.result()
            except Exception as error:
                self.doc.add_next_tick_callback(partial(fail, error))
                return
            self.doc.add_next_tick_callback(partial(apply, result))

        self.executor.submit(work).add_done_callback(done)


class InlineRunner:
    """Tests and benchmarks: run and apply at once, in the caller's thread."""

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        fail: Callable[[Exception], None],
    ) -> None:
        try:
            result = work()
        except Exception as error:
            fail(error)
            return
        apply(result)


def data_table(source: ColumnDataSource, columns: list[TableColumn], **options: Any) -> DataTable:
    """A DataTable that redraws whenever its source's data is replaced.

    BokehJS redraws a table when the source's view (its row indices) changes, so replacing the
    data with the same number of rows (another unit, another patient's statistics) would leave
    the old values on screen; the browser-side hook emits the change itself.
    """
    table = DataTable(
        source=source,
        columns=columns,
        index_position=None,
        reorderable=False,  # needs jquery-ui, which Bokeh does not ship
        **options,
    )
    source.js_on_change("data", CustomJS(args={"view": table.view}, code="view.change.emit()"))
    return table


def _period_label(end: date) -> str:
    return f"{end - timedelta(days=REPORT_DAYS - 1)} – {end}"


def _period_options(periods: list[date]) -> list[str | tuple[Any, str]]:
    return [(p.isoformat(), _period_label(p)) for p in periods]


def _unit_group(unit: Unit) -> RadioButtonGroup:
    return RadioButtonGroup(labels=[u.value for u in Unit], active=list(Unit).index(unit))


def _error(prefix: str, error: Exception) -> str:
    return f"<b>{html.escape(prefix)}</b>: {html.escape(str(error))}"


def navigation(current: str, patient: str | None) -> Div:
    links = []
    for view in VIEWS:
        query = {"view": view, **({"patient": patient} if patient else {})}
        label = {
            "report": "Patient report",
            "cohort": "Cohort triage",
            "privacy": "Privacy mode",
            "live": "Live",
        }[view]
        style = "font-weight:bold;text-decoration:none" if view == current else ""
        links.append(f'<a href="?{html.escape(urlencode(query))}" style="{style}">{label}</a>')
    return Div(text=" | ".join(links), name="nav")


# ---------------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class ReportData:
    patient_id: str
    period_end: date
    periods: list[date]
    period: dict[str, Any] | None
    agp: Columns
    episodes: Columns
    readings: Columns


def load_report(queries: LakeQueries, patient_id: str, period_end: date | None) -> ReportData:
    """Every query the report needs (one patient, one 14-day period)."""
    periods = queries.patient_periods(patient_id)
    if period_end is None or period_end not in periods:
        if not periods:
            raise LookupError(f"no period metrics for patient {patient_id}")
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
        self.patient_select = Select(title="Patient", options=[], width=320)
        self.period_select = Select(title="Period (14 days)", options=[], width=260)
        self.unit_group = _unit_group(unit)
        self.stats = ColumnDataSource(figures.empty_columns("metric", "value", "goal", "met"))
        bar, labels = viewmodel.tir_bar({})
        self.bar = ColumnDataSource(bar)
        self.labels = ColumnDataSource(labels)
        self.agp = ColumnDataSource(viewmodel.agp_columns({}, unit))
        self.episodes = ColumnDataSource(
            figures.empty_columns("episode", "start", "duration_min", "extreme", "mean")
        )
        today = date.today()
        self.panels = viewmodel.daily_panels({}, today - timedelta(days=REPORT_DAYS - 1), unit)
        self.panel_sources = [ColumnDataSource(p.columns) for p in self.panels]
        self.agp_plot = figures.agp_figure(self.agp, unit)
        self.daily = figures.daily_grid(self.panels, self.panel_sources, unit)
        self.layout = column(
            self.header,
            row(self.patient_select, self.period_select, self.unit_group),
            self.status,
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

    def _failed(self, error: Exception) -> None:
        self.status.text = _error("Could not load the report", error)

    def show(self, data: ReportData) -> None:
        self.data = data
        self.period_select.options = _period_options(data.periods)
        self.period_select.value = data.period_end.isoformat()
        if self.patient_select.value != data.patient_id:
            self.patient_select.value = data.patient_id
        self.redraw()
        self.status.text = (
            f"Showing {html.escape(data.patient_id)}, {_period_label(data.period_end)}"
        )

    def redraw(self) -> None:
        data = self.data
        if data is None:
            return
        unit = self.unit
        period = data.period or {}
        self.header.text = (
            f"<h2>AGP report — {html.escape(data.patient_id)}</h2>"
            f"<p>{_period_label(data.period_end)} (patient's local days)</p>"
        )
        self.stats.data = viewmodel.statistics_rows(period, unit)
        bar, labels = viewmodel.tir_bar(period)
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


# ---------------------------------------------------------------------------------- cohort


COHORT_FIELDS = (
    ("patient_id", "Patient", None),
    ("flags", "Flags", None),
    ("n_flags", "# flags", "0"),
    ("tir", "TIR %", "0.0"),
    ("tir_change", "ΔTIR", "+0.0"),
    ("tbr_70", "TBR<70 %", "0.0"),
    ("tbr_54", "TBR<54 %", "0.0"),
    ("level2_hypos", "L2 hypos", "0"),
    ("tar_180", "TAR>180 %", "0.0"),
    ("cv", "CV %", "0.0"),
    ("gmi", "GMI %", "0.00"),
    ("mean", "Mean", "0.0"),
    ("active_percent", "Active %", "0.0"),
)


class CohortView:
    """Triage: every patient's period metrics with flags; privacy mode releases aggregates only."""

    def __init__(
        self,
        queries: LakeQueries,
        runner: Runner,
        period: date | None,
        unit: Unit = Unit.MG_DL,
        privacy: bool = False,
        *,
        ledger: PrivacyLedger,
        viewer: Viewer,
        locked: bool = False,
    ) -> None:
        self.queries = queries
        self.runner = runner
        self.ledger = ledger
        self.viewer = viewer
        self.balance: Balance | None = None
        """The viewer's ledger balance, as last read or charged."""
        self.releasing = False
        self.locked = locked
        """Privacy mode cannot be turned off (a deployment for users outside the care team)."""
        self.unit = unit
        self.cohort: Columns | None = None
        self.period_end: date | None = None
        self.session: PrivacySession | None = None
        self.status = Div(text="Loading…", name="cohort-status")
        self.period_select = Select(title="Period (14 days)", options=[], width=260)
        self.unit_group = _unit_group(unit)
        self.table_source = ColumnDataSource(
            figures.empty_columns(*(name for name, _, _ in COHORT_FIELDS))
        )
        self.table = data_table(
            source=self.table_source,
            columns=[
                TableColumn(
                    field=name,
                    title=title,
                    formatter=NumberFormatter(format=fmt, nan_format="–")
                    if fmt
                    else TableColumn().formatter,
                    width=330 if name == "patient_id" else (230 if name == "flags" else 70),
                )
                for name, title, fmt in COHORT_FIELDS
            ],
            sortable=True,
            width=1250,
            height=420,
            name="cohort-table",
        )
        self.tir_hist = ColumnDataSource(viewmodel.histogram([], TIR_EDGES))
        self.cv_hist = ColumnDataSource(viewmodel.histogram([], CV_EDGES))
        self.privacy_toggle = Toggle(
            label="Privacy mode (differential privacy)",
            active=privacy,
            button_type="warning",
            name="privacy-toggle",
        )
        self.epsilon = Slider(
            title="ε per release",
            start=0.1,
            end=MAX_RELEASE_EPSILON,
            step=0.1,
            value=0.5,
            width=260,
            name="epsilon",
        )
        self.release_button = Button(
            label="Release statistics", button_type="primary", name="release"
        )
        self.privacy_toggle.disabled = locked
        self.privacy_status = Div(text="", name="privacy-status", width=900)
        self.privacy_controls = row(self.epsilon, self.release_button, visible=privacy)
        # Opening a row's report is a navigation (a shareable URL), done in the browser.
        self.table_source.selected.js_on_change(
            "indices",
            CustomJS(
                args={"source": self.table_source, "period": self.period_select},
                code="""
                const i = source.selected.indices[0];
                if (i === undefined) { return; }
                const q = new URLSearchParams({view: 'report',
                    patient: source.data.patient_id[i], period: period.value});
                window.location.assign('?' + q.toString());
                """,
            ),
        )
        self.layout = column(
            Div(text="<h2>Cohort triage</h2>"),
            row(self.period_select, self.unit_group, self.privacy_toggle),
            self.privacy_controls,
            self.privacy_status,
            self.status,
            self.table,
            row(
                figures.histogram_figure(
                    self.tir_hist, TIR_EDGES, "Time in range", "TIR (%)", "tir-hist"
                ),
                figures.histogram_figure(
                    self.cv_hist, CV_EDGES, "Glucose variability", "CV (%)", "cv-hist"
                ),
            ),
        )
        self.period_select.on_change("value", self._on_period)
        self.unit_group.on_change("active", self._on_unit)
        self.privacy_toggle.on_change("active", self._on_privacy)
        self.release_button.on_click(self._release)
        self._apply_privacy()
        self._start(period)
        if self.private:
            self._load_balance()

    @property
    def private(self) -> bool:
        return bool(self.privacy_toggle.active)

    def _failed(self, error: Exception) -> None:
        self.status.text = _error("Could not load the cohort", error)

    def _start(self, period: date | None) -> None:
        def apply(periods: list[date]) -> None:
            if not periods:
                self.status.text = (
                    "No period metrics in the lake yet: the pipeline has not built the marts."
                )
                return
            self.period_select.options = _period_options(periods)
            chosen = period if period in periods else periods[0]
            self.period_select.value = chosen.isoformat()
            self.load(chosen)

        self.runner.submit(self.queries.periods, apply, self._failed)

    def load(self, period_end: date) -> None:
        self.status.text = "Loading the cohort…"

        def apply(cohort: Columns) -> None:
            self.cohort = cohort
            self.period_end = period_end
            self.redraw()
            self._loaded_text()

        self.runner.submit(partial(self.queries.cohort, period_end), apply, self._failed)

    def _loaded_text(self) -> None:
        if self.cohort is None or self.period_end is None:
            return
        label = _period_label(self.period_end)
        if self.private:
            # Even the exact number of patients is a statistic: only released values are shown.
            self.status.text = f"Period {label}"
        else:
            self.status.text = (
                f"{len(self.cohort.get('patient_id', []))} patients, {label}. "
                "Click a row to open the patient's report."
            )

    def redraw(self) -> None:
        if self.private or self.cohort is None:
            return
        rows = viewmodel.cohort_rows(self.cohort, self.unit)
        self.table_source.data = rows
        self.tir_hist.data = viewmodel.histogram(rows["tir"], TIR_EDGES)
        self.cv_hist.data = viewmodel.histogram(rows["cv"], CV_EDGES)

    def _on_period(self, attr: str, old: Any, new: Any) -> None:
        if new and (self.period_end is None or new != self.period_end.isoformat()):
            self.load(date.fromisoformat(str(new)))

    def _on_unit(self, attr: str, old: Any, new: Any) -> None:
        self.unit = list(Unit)[int(new)]
        self.redraw()

    def _on_privacy(self, attr: str, old: Any, new: Any) -> None:
        if self.locked and not new:
            # Enforced here, not by the disabled button: a client can send any property value.
            self.privacy_toggle.active = True
            return
        self._apply_privacy()
        self._loaded_text()
        if self.private:
            self._load_balance()
        else:
            self.redraw()

    def _load_balance(self) -> None:
        user_id = self.viewer.user_id
        if user_id is None:
            return

        def apply(balance: Balance) -> None:
            self.balance = balance
            if self.private:
                self._privacy_text()

        def fail(error: Exception) -> None:
            self._privacy_text(_error("Could not read the privacy budget", error))

        self.runner.submit(partial(self.ledger.balance, user_id, datetime.now(UTC)), apply, fail)

    def _apply_privacy(self) -> None:
        private = self.private
        if private:
            # Nothing about an individual may remain in the document: empty every source that
            # holds per-patient values before anything else is drawn.
            self.table_source.selected.indices = []
            self.table_source.data = figures.empty_columns(*self.table_source.data)
            self.tir_hist.data = viewmodel.histogram_columns(
                [0.0] * (len(TIR_EDGES) - 1), TIR_EDGES
            )
            self.cv_hist.data = viewmodel.histogram_columns([0.0] * (len(CV_EDGES) - 1), CV_EDGES)
            self._privacy_text()
        else:
            self.privacy_status.text = ""
        self.table.visible = not private
        self.privacy_controls.visible = private
        self.period_select.disabled = private

    def _privacy_text(self, released: str = "") -> None:
        viewer, balance = self.viewer, self.balance
        if viewer.user_id is None:
            budget = f"releases refused: {html.escape(viewer.problem or 'no signed-in user')}"
        elif balance is None:
            budget = f"budget of {html.escape(viewer.user_id)}: loading…"
        else:
            budget = f"budget of {html.escape(viewer.user_id)}: {balance.describe()}"
        self.privacy_status.text = (
            "<b>Privacy mode</b>: individual patients are hidden; aggregates are released with "
            f"OpenDP's Laplace mechanism (TIR clamped to {TIR_BOUNDS[0]:g}–{TIR_BOUNDS[1]:g} %, "
            f"CV to {CV_BOUNDS[0]:g}–{CV_BOUNDS[1]:g} %; one patient = one row). "
            f"A release's ε is split over 4 statistics: each count carries noise of scale "
            f"{4 / float(self.epsilon.value):.3g}. {budget}."
            + (f"<br>{released}" if released else "")
        )

    def _refused(self, reason: str) -> None:
        self._privacy_text(f'<span style="color:#b00">{html.escape(reason)}</span>')

    def _release(self) -> None:
        if not self.private or self.releasing:
            return
        if self.viewer.user_id is None:
            self._refused(
                "No release: the signed-in user could not be verified "
                f"({self.viewer.problem}), so no privacy budget can be charged."
            )
            return
        if self.session is None:
            if self.cohort is None or self.period_end is None:
                self.privacy_status.text = "The cohort is still loading."
                return
            self.session = PrivacySession(
                self.cohort, _period_label(self.period_end), self.ledger, self.viewer.user_id
            )
        epsilon = round(float(self.epsilon.value), 3)
        # One release at a time per page: the button is the only way in, and a second click
        # while the ledger is being charged would only queue another charge.
        self.releasing = True
        self.release_button.disabled = True
        self.runner.submit(
            partial(self.session.release, epsilon), self._show_release, self._failed_release
        )

    def _failed_release(self, error: Exception) -> None:
        self.releasing = False
        self.release_button.disabled = False
        if isinstance(error, BudgetExhausted):
            self.balance = error.balance
            self._refused(str(error))
        else:
            self._privacy_text(_error("No release", error))

    def _show_release(self, release: DpRelease) -> None:
        """Only ever called with a release the ledger has charged (``session.release``
        charges before it measures)."""
        self.releasing = False
        self.release_button.disabled = False
        self.balance = release.balance
        session = self.session
        assert session is not None
        # Negative noisy counts are shown as 0 (post-processing keeps the guarantee).
        self.tir_hist.data = viewmodel.histogram_columns(
            [max(c, 0.0) for c in release.tir_counts], TIR_EDGES
        )
        self.cv_hist.data = viewmodel.histogram_columns(
            [max(c, 0.0) for c in release.cv_counts], CV_EDGES
        )
        mean = "–" if release.mean_tir is None else f"{release.mean_tir:.1f} %"
        self._privacy_text(
            f"Released (ε = {release.epsilon:g}, period {session.label}): "
            f"patients ≈ {max(release.patients, 0):.0f}, mean TIR ≈ {mean}"
        )


# ------------------------------------------------------------------------------------ live


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
        self.unit_group = _unit_group(unit)
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


# ---------------------------------------------------------------------------------- entry


def _arg(arguments: Mapping[str, list[bytes]], name: str) -> str | None:
    values = arguments.get(name)
    return values[0].decode("utf-8", "replace") if values else None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def build(
    doc: Document,
    queries: LakeQueries,
    live: LiveFeed,
    runner: Runner,
    arguments: Mapping[str, list[bytes]],
    *,
    ledger: PrivacyLedger,
    viewer: Viewer = LOCAL_VIEWER,
    privacy_only: bool = False,
) -> object:
    """Put the view the URL asks for into ``doc``; returns the view object.

    ``ledger`` and ``viewer``: whose privacy budget releases are charged to, and where.
    ``privacy_only``: every URL gets the privacy view, locked (no per-patient view exists).
    """
    view = _arg(arguments, "view") or "report"
    if view not in VIEWS:
        view = "report"
    if privacy_only:
        view = "privacy"
    patient = _arg(arguments, "patient")
    period = _date(_arg(arguments, "period"))
    unit = Unit.MMOL_L if _arg(arguments, "unit") == "mmol" else Unit.MG_DL
    doc.title = "GlucoseStream"
    built: ReportView | CohortView | LiveView
    if view == "report":
        built = ReportView(queries, runner, patient, period, unit)
    elif view in {"cohort", "privacy"}:
        built = CohortView(
            queries,
            runner,
            period,
            unit,
            privacy=view == "privacy",
            ledger=ledger,
            viewer=viewer,
            locked=privacy_only,
        )
    else:
        built = LiveView(live, patient, unit)
        doc.add_periodic_callback(built.tick, LIVE_PERIOD_MS)
    header = Div(text="<b>GlucoseStream — cohort aggregates</b>") if privacy_only else None
    doc.add_root(column(header or navigation(view, patient), built.layout))
    return built


__all__ = ["CohortView", "LiveView", "ReportView", "build"]
