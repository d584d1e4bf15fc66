"""mad_glu: R iglu 4.3.0's values, a hand-computed MAD, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import mad_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("mad_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(mad_glu(glucose), expected("mad_glu", file)[subject])


def test_mad_by_hand() -> None:
    # Median 120; |deviations| 20, 10, 0, 10, 180 -> median 10; times 1.4826.
    assert mad_glu([100, 110, 120, np.nan, 130, 300]) == {
        "MAD": pytest.approx(1.4826 * 10, rel=1e-15)
    }


def test_constant_scales() -> None:
    assert mad_glu([100, 110, 120, 130, 300], constant=1) == {"MAD": 10.0}


def test_one_reading_is_zero_and_none_is_undefined() -> None:
    assert mad_glu([120]) == {"MAD": 0.0}
    assert math.isnan(mad_glu([])["MAD"])
