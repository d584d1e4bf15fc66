"""below_percent: R iglu 4.3.0's values, a hand-computed series, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import below_percent
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("below_percent"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(below_percent(glucose), expected("below_percent", file)[subject])


def test_strictly_below_by_hand() -> None:
    # < 54: 50; < 70: 50, 54, 60 (70 itself is not below); 5 readings after dropping NaN.
    out = below_percent([50, 54, 60, np.nan, 70, 100])
    assert out == {"below_54": 100 * 1 / 5, "below_70": 100 * 3 / 5}


def test_no_readings_is_undefined() -> None:
    out = below_percent([np.nan])
    assert list(out) == ["below_54", "below_70"]
    assert all(math.isnan(v) for v in out.values())
