"""ea1c: R iglu 4.3.0's values, a hand-computed eA1C, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import ea1c
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("ea1c"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(ea1c(glucose), expected("ea1c", file)[subject])


def test_ea1c_by_hand() -> None:
    # Mean (140 + 168) / 2 = 154: (46.7 + 154) / 28.7 = 200.7 / 28.7 = 6.99303... %.
    assert ea1c([140, 168, np.nan]) == {"eA1C": pytest.approx(200.7 / 28.7, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(ea1c([np.nan])["eA1C"])
