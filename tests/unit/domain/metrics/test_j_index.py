"""j_index: R iglu 4.3.0's values, a hand-computed J-index, too few readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import j_index
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("j_index"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(j_index(glucose), expected("j_index", file)[subject])


def test_j_index_by_hand() -> None:
    # Mean 120, sample SD 20: 0.001 * (120 + 20)^2 = 0.001 * 19600 = 19.6.
    assert j_index([100, 140, np.nan, 120]) == {"J_index": pytest.approx(19.6, rel=1e-14)}


def test_fewer_than_two_readings_is_undefined() -> None:
    # R's sd() of one value is NA, so is J.
    assert math.isnan(j_index([120])["J_index"])
    assert math.isnan(j_index([])["J_index"])
