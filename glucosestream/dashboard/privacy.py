"""Privacy mode: cohort aggregates released through OpenDP with a per-session budget.

Privacy unit: one patient. The dataset of a session is the cohort's period metrics, one line
(``tir,cv``) per patient, so adding or removing a patient changes it by one line (symmetric
distance 1). Every statistic is an OpenDP transformation chain whose sensitivity OpenDP derives
(clamping to the declared bounds first), followed by OpenDP's Laplace mechanism with scale
``sensitivity / ε``; nothing here draws noise itself.

One release (:meth:`PrivacySession.release`) spends the chosen ε, split evenly over four
statistics: the patient count, the sum of TIR (mean TIR = noisy sum / noisy count, a
post-processing), the TIR histogram and the CV histogram. The four are composed into one
measurement whose privacy loss OpenDP derives; that loss is charged to the signed-in user's
**ledger** (:mod:`glucosestream.dashboard.privacy_ledger`: per user per calendar month, surviving
reloads and restarts) BEFORE the measurement runs, so nothing is shown that was not charged,
and a release that does not fit the user's remaining budget is refused whole. The measurement
then goes through the session's OpenDP **privacy filter** (an odometer capped at the same
budget), a second check that OpenDP itself enforces.

The session holds its dataset from the moment privacy mode is first enabled: queries against
other data would need their own budget, so the dashboard keeps the period fixed while in
privacy mode. The ledger counts every release of the user against one budget, whichever period
it was about (a conservative bound: releases about different periods compose).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import opendp.prelude as dp

from glucosestream.dashboard.privacy_ledger import Balance, PrivacyLedger, as_amount
from glucosestream.dashboard.viewmodel import CV_EDGES, TIR_EDGES

dp.enable_features("contrib")
t: Any = dp.t
"""OpenDP's transformation constructors (its ``then_*`` partials are untyped)."""

TIR_BOUNDS = (0.0, 100.0)
"""Declared bounds of time in range (%): values are clamped to them before summing."""
CV_BOUNDS = (CV_EDGES[0], CV_EDGES[-1])
"""Declared bounds of CV (%); a CV above the top edge lands in the last bin."""
COLUMNS = ("tir", "cv")
MAX_RELEASE_EPSILON = 1.0


@dataclass(frozen=True, slots=True)
class DpRelease:
    """What one release showed (all values noisy)."""

    epsilon: float
    balance: Balance
    """The user's ledger balance after this release was charged."""
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
    """One browser session's private view of one cohort period, charged to one user's ledger."""

    def __init__(
        self,
        cohort: Mapping[str, Sequence[Any]],
        label: str,
        ledger: PrivacyLedger,
        user_id: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.label = label
        self.ledger = ledger
        self.user_id = user_id
        self._clock = clock
        domain, metric = input_space()
        odometer = dp.c.make_fully_adaptive_composition(domain, metric, dp.max_divergence())
        self._queryable = dp.c.make_privacy_filter(odometer, 1, float(ledger.budget))(
            dataset(cohort)
        )

    def balance(self) -> Balance:
        return self.ledger.balance(self.user_id, self._clock())

    def release(self, epsilon: float) -> DpRelease:
        """Charge the user's ledger, then run the measurement; raises
        :class:`~glucosestream.dashboard.privacy_ledger.BudgetExhausted` (nothing charged, nothing
        released) when it does not fit."""
        if not 0 < epsilon <= MAX_RELEASE_EPSILON:
            raise ValueError(f"ε per release must be in (0, {MAX_RELEASE_EPSILON}]")
        measurement = release_measurement(epsilon)
        cost = as_amount(float(measurement.map(1)))
        # Charged first: if anything below fails, the budget is spent and nothing is shown,
        # never the other way round.
        balance = self.ledger.charge(self.user_id, cost, self._clock())
        # The filter cannot refuse what the ledger accepted (this session's releases are a
        # part of the user's); should it, the charge stands and nothing is shown.
        count, tir_sum, tir_counts, cv_counts = self._queryable(measurement)
        patients = float(count)
        return DpRelease(
            epsilon=float(cost),
            balance=balance,
            patients=patients,
            mean_tir=(min(max(tir_sum / patients, 0.0), 100.0) if patients >= 1 else None),
            tir_counts=[float(c) for c in tir_counts],
            cv_counts=[float(c) for c in cv_counts],
        )
