"""gvp: R iglu 4.3.0's values, hand-computed GVP on whole grid points, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import day_by_day, gvp, gvp_of_grid
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("gvp"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    # A grid metric, yet the grid reproduces R's to the last bits: held to the non-grid
    # tolerance (1e-9), not GRID_TOLERANCE (1e-6).
    times_ms, glucose = subjects(file)[subject]
    assert_matches_r(gvp(times_ms, glucose), expected("gvp", file)[subject])


def test_gvp_by_hand() -> None:
    # Readings on the grid points 00:05 ... 00:20 (dt0 = 5 min): differences 12, 0, -12 mg/dL,
    # segment lengths sqrt(5^2 + 12^2) = 13, 5, 13; flat length 3 * 5 = 15.
    # GVP = (31 / 15 - 1) * 100.
    out = gvp(at_minutes([5, 10, 15, 20]), [100, 112, 112, 100])
    assert out == {"GVP": pytest.approx((31 / 15 - 1) * 100, rel=1e-12)}


def test_long_gaps_are_left_out() -> None:
    # As above, then 100 minutes later (> 45 min, not interpolated) two flat readings: one
    # more segment of length 5 over 5. GVP = (36 / 20 - 1) * 100 = 80.
    minutes = [5, 10, 15, 20, 120, 125]
    out = gvp(at_minutes(minutes), [100, 112, 112, 100, 100, 100])
    assert out == {"GVP": pytest.approx(80.0, rel=1e-12)}


def test_of_grid_is_the_same() -> None:
    times, glucose = at_minutes([5, 10, 15, 20, 25]), [100, 112, 112, 100, 103]
    assert gvp_of_grid(day_by_day(times, glucose)) == gvp(times, glucose)


def test_too_few_readings_are_undefined() -> None:
    # One reading: no grid (R stops); readings 60 min apart: dt0 = 60 > 45, no grid.
    assert math.isnan(gvp(at_minutes([5]), [100])["GVP"])
    assert math.isnan(gvp(at_minutes([0, 60]), [100, 120])["GVP"])
    assert math.isnan(gvp([], [])["GVP"])
    assert math.isnan(gvp(at_minutes([5, 10]), [np.nan, np.nan])["GVP"])


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        gvp(at_minutes([0, 5]), [100.0])
