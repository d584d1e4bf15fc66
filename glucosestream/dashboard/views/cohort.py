"""The cohort view: triage of every patient's period metrics, and privacy mode, where only
differentially private aggregates are released, charged to the viewer's privacy budget."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS
from bokeh.models.widgets.buttons import Button, Toggle
from bokeh.models.widgets.inputs import Select
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.sliders import Slider
from bokeh.models.widgets.tables import NumberFormatter, TableColumn

from glucosestream.dashboard import figures, viewmodel
from glucosestream.dashboard.identity import Viewer
from glucosestream.dashboard.privacy import (
    CV_BOUNDS,
    MAX_RELEASE_EPSILON,
    TIR_BOUNDS,
    DpRelease,
    PrivacySession,
)
from glucosestream.dashboard.privacy_ledger import Balance, BudgetExhausted, PrivacyLedger
from glucosestream.dashboard.queries import Columns, LakeQueries
from glucosestream.dashboard.runner import Runner
from glucosestream.dashboard.units import (
    ABOVE_TARGET,
    BELOW_TARGET,
    BELOW_VERY_LOW,
    GlucoseRange,
    Unit,
)
from glucosestream.dashboard.viewmodel import CV_EDGES, TIR_EDGES
from glucosestream.dashboard.views.widgets import (
    data_table,
    error_text,
    period_label,
    period_options,
    unit_group,
)

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

RANGE_TITLES: dict[str, tuple[str, GlucoseRange]] = {
    "tbr_70": ("TBR", BELOW_TARGET),
    "tbr_54": ("TBR", BELOW_VERY_LOW),
    "tar_180": ("TAR", ABOVE_TARGET),
}
"""Column headers that name a glucose range: written in the unit the table shows."""


def column_title(name: str, title: str, unit: Unit) -> str:
    if name not in RANGE_TITLES:
        return title
    prefix, glucose = RANGE_TITLES[name]
    return f"{prefix}{glucose.label(unit)} %"


def cohort_columns(unit: Unit) -> list[TableColumn]:
    return [
        TableColumn(
            field=name,
            title=column_title(name, title, unit),
            formatter=NumberFormatter(format=fmt, nan_format="–")
            if fmt
            else TableColumn().formatter,
            width=330 if name == "patient_id" else (230 if name == "flags" else 70),
        )
        for name, title, fmt in COHORT_FIELDS
    ]


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
        self.unit_group = unit_group(unit)
        self.table_source = ColumnDataSource(
            figures.empty_columns(*(name for name, _, _ in COHORT_FIELDS))
        )
        self.table = data_table(
            source=self.table_source,
            columns=cohort_columns(unit),
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
        self.status.text = error_text("Could not load the cohort", error)

    def _start(self, period: date | None) -> None:
        def apply(periods: list[date]) -> None:
            if not periods:
                self.status.text = (
                    "No period metrics in the lake yet: the pipeline has not built the marts."
                )
                return
            self.period_select.options = period_options(periods)
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
        label = period_label(self.period_end)
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
        # New columns, not new titles: BokehJS re-renders a table when its columns change.
        self.table.columns = cohort_columns(self.unit)
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
            self._privacy_text(error_text("Could not read the privacy budget", error))

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
                self.cohort, period_label(self.period_end), self.ledger, self.viewer.user_id
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
            self._privacy_text(error_text("No release", error))

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
