"""grade: R iglu 4.3.0's values, a hand-computed GRADE, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import grade
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("grade"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(grade(glucose), expected("grade", file)[subject])


def test_grade_by_hand() -> None:
    # 180 mg/dL = 10 mmol/L: 425 * (log10(log10(10)) + 0.16)^2 = 425 * 0.16^2 = 10.88.
    # 36 mg/dL = 2 mmol/L: 425 * (log10(0.30103) + 0.16)^2 = 425 * 0.3614^2 = 55.5 -> cap 50.
    assert grade([180, 36]) == {"GRADE": pytest.approx((10.88 + 50) / 2, rel=1e-13)}


def test_readings_below_18_have_no_score() -> None:
    # log10(10 / 18) < 0 has no log10: R's NaN score is dropped by na.rm (an R quirk: such a
    # reading is not counted at all); the NaN glucose reading is dropped too.
    assert grade([180, 36, 10, np.nan]) == {"GRADE": pytest.approx((10.88 + 50) / 2, rel=1e-13)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(grade([])["GRADE"])
