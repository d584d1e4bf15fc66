"""adrr: R iglu 4.3.0's values, a hand-computed two-day ADRR, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import adrr
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("adrr"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    times_ms, glucose = subjects(file)[subject]
    assert_matches_r(adrr(times_ms, glucose), expected("adrr", file)[subject])


def f(g: float) -> float:
    """Kovatchev's symmetrised glucose, written out for the expected values."""
    return float(math.log(g) ** 1.084) - 5.381


def test_two_days_by_hand() -> None:
    # Day 1 (08:00, 12:00, 23:59): 50, 200, 120 -> lowest f(50) < 0, highest f(200) > 0.
    # Day 2 (00:01, 07:00, 13:00, and a missing reading): 100, 300, 150 -> f(100) < 0, f(300).
    # Each day's LR + HR, then the mean of the two days (not of the 6 readings).
    minutes = [8 * 60, 12 * 60, 1439, 1441, 1440 + 7 * 60, 1440 + 10 * 60, 1440 + 13 * 60]
    glucose = [50, 200, 120, 100, 300, np.nan, 150]
    day1 = 22.77 * f(50) ** 2 + 22.77 * f(200) ** 2
    day2 = 22.77 * f(100) ** 2 + 22.77 * f(300) ** 2
    assert adrr(at_minutes(minutes), glucose) == {
        "ADRR": pytest.approx((day1 + day2) / 2, rel=1e-13)
    }
    # Order does not matter: days come from the times.
    order = [6, 0, 3, 5, 1, 4, 2]
    shuffled = adrr(at_minutes(minutes)[order], np.asarray(glucose)[order])
    assert shuffled == {"ADRR": pytest.approx((day1 + day2) / 2, rel=1e-13)}


def test_a_day_with_only_missing_readings_is_no_day() -> None:
    # Day 1: 50 and 200; day 2: only a NaN. ADRR = day 1's range alone.
    want = 22.77 * f(50) ** 2 + 22.77 * f(200) ** 2
    out = adrr(at_minutes([60, 120, 1500]), [50, 200, np.nan])
    assert out == {"ADRR": pytest.approx(want, rel=1e-13)}


def test_one_reading_and_none() -> None:
    # One reading: its day's risk range (one side is 0). None: undefined.
    assert adrr(at_minutes([60]), [50]) == {"ADRR": pytest.approx(22.77 * f(50) ** 2, rel=1e-13)}
    assert math.isnan(adrr([], [])["ADRR"])
    assert math.isnan(adrr(at_minutes([60]), [np.nan])["ADRR"])


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        adrr(at_minutes([0, 5]), [100.0])
