"""igc: R iglu 4.3.0's values, a hand-computed IGC, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import igc
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("igc"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(igc(glucose), expected("igc", file)[subject])


def test_igc_by_hand() -> None:
    # n = 3. Hyper: (170 - 140)^1.1 / (3 * 30); hypo: (80 - 60)^2 / (3 * 30) = 400 / 90.
    want = 30**1.1 / 90 + 400 / 90
    assert igc([60, np.nan, 100, 170]) == {"IGC": pytest.approx(want, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(igc([])["IGC"])
