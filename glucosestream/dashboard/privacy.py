"""Privacy mode: cohort aggregates released through OpenDP with a per-session budget.

Privacy unit: one patient. The dataset of a session is the cohort's period metrics, one line
(``tir,cv``) per patient, so adding or removing a patient changes it by one line (symmetric
distance 1). Every statistic is an OpenDP transformation chain whose sensitivity OpenDP derives
(clamping to the declared bounds first), followed by OpenDP's Laplace mechanism with scale
``sensitivity / ε``; nothing here draws noise itself.

One release (:meth:`PrivacySession.release`) spends the chosen ε, split evenly over four
statistics: the patient count, the sum of TIR (mean TIR = noisy sum / noisy count, a
post-processing), the TIR histogram and the CV histogram. The four are composed into one
measurement and submitted to the session's OpenDP **privacy filter** (a fully adaptive
odometer capped at the session budget), so a release happens whole or not at all, and the
filter itself refuses any release that would exceed the budget.

The session holds its dataset from the moment privacy mode is first enabled: queries against
other data would need their own budget, so the dashboard keeps the period fixed while in
privacy mode. The budget lives as long as the browser session (a page reload starts a new one);
a deployment sharing releases outside the care team needs a per-user ledger on top.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import opendp.prelude as dp

from glucosestream.dashboard.viewmodel import CV_EDGES, TIR_EDGES

dp.enable_features("contrib")
t: Any = dp.t
"""OpenDP's transformation constructors (its ``then_*`` partials are untyped)."""

TIR_BOUNDS = (0.0, 100.0)
"""Declared bounds of time in range (%): values are clamped to them before summing."""
CV_BOUNDS = (CV_EDGES[0], CV_EDGES[-1])
"""Declared bounds of CV (%); a CV above the top edge lands in the last bin."""
COLUMNS = ("tir", "cv")
DEFAULT_SESSION_EPSILON = 3.0
"""The total ε a browser session may spend."""
MAX_RELEASE_EPSILON = 1.0


class BudgetExhausted(RuntimeError):
    """A release that would take the session past its privacy budget; nothing was released."""


@dataclass(frozen=True, slots=True)
class DpRelease:
    """What one release showed (all values noisy)."""

    epsilon: float
    patients: float
    mean_tir: float | None
    """None when the noisy count is below one patient (the ratio would be meaningless)."""
    tir_counts: list[float]
    cv_counts: list[float]


def _column(name: str) -> Any:
    # The dataframe transformations are deprecated in favour of OpenDP's Polars API; Polars is
    # not a dependency here, and these constructors are still shipped with their proofs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        split = t.make_split_dataframe(",", list(COLUMNS))
        selected = split >> t.make_select_column(name, str)
    # Unparseable or missing values (a CV needs two readings) are dropped: a 1-stable step.
    return selected >> t.then_cast(float) >> t.then_drop_null()


def input_space() -> tuple[Any, Any]:
    """The dataset's domain and metric: lines of text, symmetric distance (one patient)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        split = t.make_split_dataframe(",", list(COLUMNS))
    return split.input_domain, split.input_metric


SCALE_MARGIN = 1 + 1e-9
"""OpenDP rounds privacy maps up: a scale of exactly sensitivity / ε can cost ε plus an ulp,
which would make ε-sized releases overrun a budget they fit by arithmetic."""


def _laplace(transformation: Any, epsilon: float) -> Any:
    sensitivity = float(transformation.map(1))
    return transformation >> dp.m.then_laplace(scale=sensitivity / epsilon * SCALE_MARGIN)


def count_measurement(epsilon: float) -> Any:
    return _laplace(_column("tir") >> t.then_count(), epsilon)


def sum_measurement(column: str, bounds: tuple[float, float], epsilon: float) -> Any:
    return _laplace(_column(column) >> t.then_clamp(bounds) >> t.then_sum(), epsilon)


def histogram_measurement(
    column: str, bounds: tuple[float, float], edges: Sequence[float], epsilon: float
) -> Any:
    """Counts per bin of ``edges`` (bins [e_i, e_i+1), the last closed); a patient moves one
    count, so the L1 sensitivity OpenDP derives is 1."""
    interior = list(edges[1:-1])
    chain = (
        _column(column)
        >> t.then_clamp(bounds)
        >> t.then_find_bin(edges=interior)
        >> t.then_count_by_categories(
            categories=list(range(len(interior) + 1)), null_category=False
        )
    )
    return _laplace(chain, epsilon)


def release_measurement(epsilon: float) -> Any:
    """The four statistics of one release, composed (total privacy loss ``epsilon``)."""
    part = epsilon / 4
    return dp.c.make_composition(
        [
            count_measurement(part),
            sum_measurement("tir", TIR_BOUNDS, part),
            histogram_measurement("tir", TIR_BOUNDS, TIR_EDGES, part),
            histogram_measurement("cv", CV_BOUNDS, CV_EDGES, part),
        ]
    )


def dataset(cohort: Mapping[str, Sequence[Any]]) -> str:
    """One ``tir,cv`` line per patient (missing values left empty: dropped by the chain)."""

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return repr(float(value))

    return "\n".join(
        f"{cell(tir)},{cell(cv)}"
        for tir, cv in zip(cohort.get("tir_70_180", []), cohort.get("cv", []), strict=True)
    )


class PrivacySession:
    """One browser session's private view of one cohort period, with its budget."""

    def __init__(
        self,
        cohort: Mapping[str, Sequence[Any]],
        label: str,
        budget: float = DEFAULT_SESSION_EPSILON,
    ) -> None:
        if budget <= 0:
            raise ValueError("the privacy budget must be positive")
        self.label = label
        self.budget = budget
        self.spent = 0.0
        domain, metric = input_space()
        odometer = dp.c.make_fully_adaptive_composition(domain, metric, dp.max_divergence())
        self._queryable = dp.c.make_privacy_filter(odometer, 1, budget)(dataset(cohort))

    @property
    def remaining(self) -> float:
        return max(self.budget - self.spent, 0.0)

    def _refusal(self, cost: float) -> BudgetExhausted:
        return BudgetExhausted(
            f"Privacy budget spent: this release needs ε = {cost:.2g}, "
            f"{self.remaining:.2g} of {self.budget:g} remains for this session. "
            "No statistic was released."
        )

    def release(self, epsilon: float) -> DpRelease:
        if not 0 < epsilon <= MAX_RELEASE_EPSILON:
            raise ValueError(f"ε per release must be in (0, {MAX_RELEASE_EPSILON}]")
        measurement = release_measurement(epsilon)
        cost = float(measurement.map(1))
        # Checked here first because OpenDP's filter closes for good after refusing a query; it
        # stays the enforcement behind this check (the budget is its d_out, not ours).
        if self.spent + cost > self.budget:
            raise self._refusal(cost)
        try:
            count, tir_sum, tir_counts, cv_counts = self._queryable(measurement)
        except dp.OpenDPException as error:
            if "exceed" not in str(error) and "exhausted" not in str(error):
                raise
            raise self._refusal(cost) from None
        self.spent += cost
        patients = float(count)
        return DpRelease(
            epsilon=cost,
            patients=patients,
            mean_tir=(min(max(tir_sum / patients, 0.0), 100.0) if patients >= 1 else None),
            tir_counts=[float(c) for c in tir_counts],
            cv_counts=[float(c) for c in cv_counts],
        )
