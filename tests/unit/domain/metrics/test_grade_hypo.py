"""grade_hypo: R iglu 4.3.0's values, a hand-computed share, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import grade_hypo
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("grade_hypo"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(grade_hypo(glucose), expected("grade_hypo", file)[subject])


S180 = 425 * 0.16**2  # 10 mmol/L: log10(log10(10)) = 0 -> 10.88
S100 = 425 * (math.log10(math.log10(100 / 18)) + 0.16) ** 2  # 5.56 mmol/L: about 0.435
S140 = 425 * (math.log10(math.log10(140 / 18)) + 0.16) ** 2  # 7.78 mmol/L: about 3.98
S36 = 50.0  # 2 mmol/L: 425 * (log10(0.30103) + 0.16)^2 = 55.5, capped at 50


def test_share_by_hand() -> None:
    # Hypo: below 80 -> only 36 of 180, 36, 100.
    out = grade_hypo([180, 36, np.nan, 100])
    assert out == {"GRADE_hypo": pytest.approx(100 * S36 / (S180 + S36 + S100), rel=1e-13)}


def test_no_low_readings_give_zero() -> None:
    assert grade_hypo([180, 140]) == {"GRADE_hypo": 0.0}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(grade_hypo([])["GRADE_hypo"])
    assert math.isnan(grade_hypo([np.nan])["GRADE_hypo"])
