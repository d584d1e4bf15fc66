"""median_glu: R iglu 4.3.0's values, hand-computed series, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import median_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("median_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(median_glu(glucose), expected("median_glu", file)[subject])


def test_median_by_hand() -> None:
    # Even count: sorted 100, 120, 130, 150 -> (120 + 130) / 2. Odd: the middle one.
    assert median_glu([150, 100, np.nan, 130, 120]) == {"median": 125.0}
    assert median_glu([150, 100, 130]) == {"median": 130.0}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(median_glu([np.nan, np.nan])["median"])
