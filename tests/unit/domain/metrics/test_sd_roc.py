"""sd_roc: R iglu 4.3.0's values, hand-computed cases, short series."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from glucosestream.domain.metrics import day_by_day, sd_roc, sd_roc_of_grid
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid, same_outputs
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("sd_roc"))
def test_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert_matches_r_grid(sd_roc(times, glucose), expected("sd_roc", file)[subject])


def test_by_hand() -> None:
    # Five-minute readings G_k, k = 0 … 19: 100 + 2k up to k = 9 (118), then 118. ROC_k =
    # (G_k - G_{k-3}) / 15 for k = 3 … 19: 6/15 for k = 3 … 9 (7 values), then (118 - 114)/15,
    # (118 - 116)/15, and 0 for k = 12 … 19 (8 values).
    minutes = 5 * np.arange(1, 21)
    g = np.minimum(100 + 2 * np.arange(20), 118).astype(float)
    rates = [6 / 15] * 7 + [4 / 15, 2 / 15] + [0.0] * 8
    assert sd_roc(at_minutes(minutes), g)["sd_roc"] == pytest.approx(
        statistics.stdev(rates), rel=1e-12
    )


def test_lag_truncates_but_divides_by_timelag_by_hand() -> None:
    # Ten-minute data: 15/10 = 1.5 grid steps, which R's diff() and rep() truncate to 1,
    # still dividing by 15. Readings 100, 110, 120, 120, 120, 120: rates 10/15, 10/15, 0, 0, 0.
    minutes = 10 * np.arange(1, 7)
    g = np.array([100.0, 110, 120, 120, 120, 120])
    rates = [10 / 15, 10 / 15, 0.0, 0.0, 0.0]
    assert sd_roc(at_minutes(minutes), g)["sd_roc"] == pytest.approx(
        statistics.stdev(rates), rel=1e-12
    )


def test_timelag_below_the_step_is_the_step_by_hand() -> None:
    # Twenty-minute data with timelag 15: R uses timelag = dt0 = 20, one step.
    minutes = 20 * np.arange(1, 6)
    g = np.array([100.0, 140, 140, 120, 120])
    rates = [40 / 20, 0.0, -20 / 20, 0.0]
    assert sd_roc(at_minutes(minutes), g)["sd_roc"] == pytest.approx(
        statistics.stdev(rates), rel=1e-12
    )


@pytest.mark.parametrize(
    ("minutes", "glucose"),
    [([], []), ([0], [120.0]), ([5, 10, 15], [100.0, 110, 120]), ([5, 10], [np.nan, 120.0])],
)
def test_nan_for_too_little_data(minutes: list[float], glucose: list[float]) -> None:
    # Three readings 5 min apart give no rate 15 min apart.
    assert math.isnan(sd_roc(at_minutes(minutes), np.array(glucose))["sd_roc"])


@pytest.mark.parametrize(("file", "subject"), cases("sd_roc"))
def test_of_grid_equals_the_wrapper(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert same_outputs(sd_roc_of_grid(day_by_day(times, glucose)), sd_roc(times, glucose))
