"""above_percent: R iglu 4.3.0's values, a hand-computed series, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import above_percent
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("above_percent"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(above_percent(glucose), expected("above_percent", file)[subject])


def test_strictly_above_by_hand() -> None:
    # 5 readings (the NaN is dropped): > 140 are 141, 200, 260 (140 itself is not above).
    out = above_percent([100, 140, np.nan, 141, 200, 260])
    assert out == {"above_140": 100 * 3 / 5, "above_180": 100 * 2 / 5, "above_250": 100 * 1 / 5}


def test_column_names_follow_the_targets() -> None:
    assert above_percent([100, 200], targets_above=[150, 62.5]) == {
        "above_150": 50.0,
        "above_62.5": 100.0,
    }


def test_no_readings_is_undefined() -> None:
    for out in (above_percent([]), above_percent([np.nan, np.nan])):
        assert list(out) == ["above_140", "above_180", "above_250"]
        assert all(math.isnan(v) for v in out.values())
