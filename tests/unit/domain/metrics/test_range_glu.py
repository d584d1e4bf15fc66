"""range_glu: R iglu 4.3.0's values, a hand-computed range, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import range_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("range_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(range_glu(glucose), expected("range_glu", file)[subject])


def test_range_by_hand() -> None:
    assert range_glu([120, np.nan, 80, 200]) == {"range": 200.0 - 80.0}


def test_one_reading_is_zero_and_none_is_undefined() -> None:
    assert range_glu([120]) == {"range": 0.0}
    assert math.isnan(range_glu([])["range"])
