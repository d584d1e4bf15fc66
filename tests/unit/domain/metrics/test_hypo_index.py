"""hypo_index: R iglu 4.3.0's values, a hand-computed index, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import hypo_index
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("hypo_index"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(hypo_index(glucose), expected("hypo_index", file)[subject])


def test_hypo_index_by_hand() -> None:
    # Below 80: 60 and 70 -> (20^2 + 10^2) / (n * 30) = 500 / 120, n = 4 (80 is not below).
    out = hypo_index([60, 70, np.nan, 80, 100])
    assert out == {"hypo_index": pytest.approx(500 / 120, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(hypo_index([np.nan])["hypo_index"])
