"""m_value: R iglu 4.3.0's values, a hand-computed M-value, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import m_value
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("m_value"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(m_value(glucose), expected("m_value", file)[subject])


def test_m_value_by_hand() -> None:
    # r = 90: log10(90/90) = 0, log10(900/90) = 1, log10(9/90) = -1;
    # 1000 * |.|^3 = 0, 1000, 1000 -> mean 2000 / 3.
    assert m_value([90, 900, np.nan, 9]) == {"M_value": pytest.approx(2000 / 3, rel=1e-14)}


def test_reference_glucose() -> None:
    # r = 100: terms 0 and 1000 * |log10(10)|^3 = 1000 -> 500.
    assert m_value([100, 1000], r=100) == {"M_value": pytest.approx(500.0, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(m_value([])["M_value"])
