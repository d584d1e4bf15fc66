"""gri: R iglu 4.3.0's values, hand-computed GRI (cap, repeated instants), short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import gri
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("gri"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    times_ms, glucose = subjects(file)[subject]
    assert_matches_r(gri(times_ms, glucose), expected("gri", file)[subject])


def test_gri_by_hand() -> None:
    # 10 readings: <54: 10 %, <70: 10 %, >180: 10 %, >250: 0 %.
    # 3 * 10 + 2.4 * (10 - 10) + 1.6 * 0 + 0.8 * (10 - 0) = 38.
    glucose = [50, 100, 100, 100, 100, 100, 100, 100, 100, 200]
    out = gri(at_minutes(np.arange(10) * 5), glucose)
    assert out == {"GRI": pytest.approx(38.0, rel=1e-14)}


def test_capped_at_100() -> None:
    # <54: 20 %, <70: 40 %, >180: 40 %, >250: 20 %: 60 + 48 + 32 + 16 = 156 -> 100.
    out = gri(at_minutes([0, 5, 10, 15, 20]), [50, 60, 100, 200, 300])
    assert out == {"GRI": 100.0}


def test_repeated_instants_are_averaged_first() -> None:
    # R's check_data_time: the two readings at 00:05 become one, (40 + 100) / 2 = 70, which
    # is not below 70. Readings 100, 70, 200: >180 = 1/3 -> 0.8 * 100/3. (Counting 40 as a
    # reading would give <54 = 25 %.)
    out = gri(at_minutes([0, 5, 5, 10]), [100, 40, 100, 200])
    assert out == {"GRI": pytest.approx(0.8 * 100 / 3, rel=1e-14)}
    # A missing value in a run is ignored: 100, 100, 100 and (NaN, 60) -> 60: <70 = 25 %.
    out = gri(at_minutes([0, 5, 10, 15, 15]), [100, 100, 100, np.nan, 60])
    assert out == {"GRI": pytest.approx(2.4 * 25, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(gri([], [])["GRI"])
    assert math.isnan(gri(at_minutes([0, 5]), [np.nan, np.nan])["GRI"])


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        gri(at_minutes([0]), [100.0, 120.0])
