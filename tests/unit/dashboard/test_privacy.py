"""Privacy mode: OpenDP's Laplace scale for the declared bounds, the budget, the refusal."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.dashboard.privacy import (
    CV_BOUNDS,
    TIR_BOUNDS,
    BudgetExhausted,
    PrivacySession,
    count_measurement,
    dataset,
    histogram_measurement,
    sum_measurement,
)
from glucosestream.dashboard.viewmodel import TIR_EDGES

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


def test_the_session_budget_refuses_once_spent() -> None:
    session = PrivacySession(COHORT, "period", budget=1.0)
    first = session.release(0.6)
    assert first.epsilon == pytest.approx(0.6)
    assert len(first.tir_counts) == 10
    assert len(first.cv_counts) == 12
    assert first.mean_tir is not None
    assert 0 <= first.mean_tir <= 100
    with pytest.raises(BudgetExhausted, match="Privacy budget spent"):
        session.release(0.6)
    assert session.spent == pytest.approx(0.6)  # the refused release cost nothing
    session.release(0.4)
    with pytest.raises(BudgetExhausted):
        session.release(0.1)
    with pytest.raises(ValueError, match="ε per release"):
        session.release(0.0)
