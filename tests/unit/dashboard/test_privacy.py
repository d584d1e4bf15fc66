"""Privacy mode: OpenDP's Laplace scale for the declared bounds, the budget, the refusal."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from glucosestream.dashboard.privacy import (
    CV_BOUNDS,
    TIR_BOUNDS,
    PrivacySession,
    count_measurement,
    dataset,
    histogram_measurement,
    sum_measurement,
)
from glucosestream.dashboard.privacy_ledger import Balance, BudgetExhausted
from glucosestream.dashboard.viewmodel import TIR_EDGES
from glucosestream.local.privacy_ledger import FilePrivacyLedger

COHORT = {
    # Out-of-bounds values on purpose: the release must clamp them to the declared bounds.
    "tir_70_180": [55.0 + (i * 7) % 45 for i in range(60)] + [130.0, -5.0],
    "cv": [20.0 + i % 25 for i in range(60)] + [80.0, None],
}
DRAWS = 3000


def deviations(measurement: object, truth: float | np.ndarray) -> np.ndarray:
    data = dataset(COHORT)
    draws = np.array([measurement(data) for _ in range(DRAWS)], dtype=float)  # type: ignore[operator]
    return draws - truth


def assert_laplace_scale(errors: np.ndarray, scale: float, *, integer: bool = False) -> None:
    """The errors are Laplace(b) draws: E|X| = b, or for OpenDP's integer (discrete Laplace,
    q = e^(-1/b)) noise E|X| = 2q / (1 - q²). The sample mean of |X| must lie within 5 of its
    standard errors of that (a false failure rate below 1e-6); a scale off by 10 % fails at
    these sample sizes."""
    n = errors.size
    magnitudes = np.abs(errors)
    if integer:
        q = math.exp(-1 / scale)
        expected = 2 * q / (1 - q * q)
    else:
        expected = scale
        # Laplace, not Gaussian: median |X| = b ln 2 (a Gaussian of that E|X| has 0.845 b).
        assert float(np.median(magnitudes)) == pytest.approx(scale * math.log(2), rel=0.1)
    tolerance = 5 * float(np.std(magnitudes)) / math.sqrt(n)
    assert float(np.mean(magnitudes)) == pytest.approx(expected, abs=tolerance)
    assert abs(float(np.mean(errors))) < 5 * float(np.std(errors)) / math.sqrt(n)  # unbiased


@pytest.mark.parametrize("epsilon", [0.25, 1.0])
def test_clamped_sum_has_laplace_noise_of_scale_upper_bound_over_epsilon(epsilon: float) -> None:
    clamped = np.clip([v for v in COHORT["tir_70_180"]], *TIR_BOUNDS)
    measurement = sum_measurement("tir", TIR_BOUNDS, epsilon)
    assert measurement.map(1) <= epsilon + 1e-9
    # Symmetric distance: one patient more or less moves the clamped sum by at most 100.
    assert_laplace_scale(deviations(measurement, float(np.sum(clamped))), 100.0 / epsilon)


def test_count_and_histogram_have_scale_one_over_epsilon() -> None:
    epsilon = 0.5
    assert_laplace_scale(deviations(count_measurement(epsilon), 62.0), 1 / epsilon, integer=True)
    clamped = np.clip(COHORT["tir_70_180"], *TIR_BOUNDS)
    truth, _ = np.histogram(clamped, bins=np.array(TIR_EDGES))
    errors = deviations(histogram_measurement("tir", TIR_BOUNDS, TIR_EDGES, epsilon), truth)
    assert errors.shape == (DRAWS, len(TIR_EDGES) - 1)
    assert_laplace_scale(errors.ravel(), 1 / epsilon, integer=True)


def test_missing_values_are_dropped_and_out_of_range_ones_clamped() -> None:
    # ε huge: the noise is negligible, so the released counts show what was counted.
    released = histogram_measurement("cv", CV_BOUNDS, (0.0, 30.0, 60.0), 1e6)(dataset(COHORT))
    low = sum(1 for i in range(60) if 20 + i % 25 < 30)
    # 61 values: the 60 in range, the CV of 80 clamped into the top bin; the None dropped.
    assert list(released) == [low, 61 - low]


NOW = datetime(2025, 6, 14, 10, 0, tzinfo=UTC)


def session_for(ledger: Any, user: str = "clinician-a") -> PrivacySession:
    return PrivacySession(COHORT, "period", ledger, user, clock=lambda: NOW)


def test_the_users_budget_refuses_once_spent(tmp_path: Path) -> None:
    session = session_for(FilePrivacyLedger(tmp_path / "ledger.json", Decimal(1)))
    first = session.release(0.6)
    assert first.epsilon == pytest.approx(0.6)
    assert first.balance.spent == pytest.approx(Decimal("0.6"), abs=Decimal("1e-9"))
    assert len(first.tir_counts) == 10
    assert len(first.cv_counts) == 12
    assert first.mean_tir is not None
    assert 0 <= first.mean_tir <= 100
    with pytest.raises(BudgetExhausted, match="Privacy budget spent"):
        session.release(0.6)
    assert float(session.balance().spent) == pytest.approx(0.6)  # the refusal cost nothing
    session.release(0.4)
    with pytest.raises(BudgetExhausted, match="2025-06; whole again on 2025-07-01"):
        session.release(0.1)
    with pytest.raises(ValueError, match="ε per release"):
        session.release(0.0)


def test_a_reload_continues_the_same_users_budget(tmp_path: Path) -> None:
    """A new session (a reload, another tab, a restarted server) of the same user shares the
    budget; another user has their own."""
    path = tmp_path / "ledger.json"
    session_for(FilePrivacyLedger(path, Decimal(1))).release(0.7)
    reloaded = session_for(FilePrivacyLedger(path, Decimal(1)))
    assert float(reloaded.balance().spent) == pytest.approx(0.7)
    with pytest.raises(BudgetExhausted):
        reloaded.release(0.5)
    other = session_for(FilePrivacyLedger(path, Decimal(1)), user="clinician-b")
    assert other.release(0.5).balance.releases == 1


class RecordingLedger:
    """A ledger that records the order of events; ``refuse`` makes every charge fail."""

    def __init__(self, events: list[str], refuse: bool = False) -> None:
        self.events = events
        self.refuse = refuse

    @property
    def budget(self) -> Decimal:
        return Decimal(3)

    def balance(self, user_id: str, at: datetime) -> Balance:
        return Balance(user_id, "2025-06", Decimal(0), self.budget)

    def charge(self, user_id: str, epsilon: Decimal, at: datetime) -> Balance:
        if self.refuse:
            self.events.append("refused")
            raise BudgetExhausted(self.balance(user_id, at), epsilon)
        self.events.append("charged")
        return Balance(user_id, "2025-06", epsilon, self.budget, 1)


def test_the_charge_is_recorded_before_the_measurement_runs() -> None:
    events: list[str] = []
    session = session_for(RecordingLedger(events))
    measure = session._queryable
    session._queryable = lambda m: (events.append("measured"), measure(m))[1]
    session.release(0.5)
    assert events == ["charged", "measured"]


def test_a_refused_charge_measures_nothing() -> None:
    events: list[str] = []
    session = session_for(RecordingLedger(events, refuse=True))
    session._queryable = lambda m: events.append("measured")
    with pytest.raises(BudgetExhausted):
        session.release(0.5)
    assert events == ["refused"]
