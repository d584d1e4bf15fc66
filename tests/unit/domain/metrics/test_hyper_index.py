"""hyper_index: R iglu 4.3.0's values, a hand-computed index, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import hyper_index
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("hyper_index"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(hyper_index(glucose), expected("hyper_index", file)[subject])


def test_hyper_index_by_hand() -> None:
    # Above 140: 150 and 170 -> (10^1.1 + 30^1.1) / (n * 30), n = 4 (140 itself is not above).
    want = (10**1.1 + 30**1.1) / (4 * 30)
    out = hyper_index([100, 140, 150, np.nan, 170])
    assert out == {"hyper_index": pytest.approx(want, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(hyper_index([])["hyper_index"])
