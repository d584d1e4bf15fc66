"""gmi: R iglu 4.3.0's values, a hand-computed GMI, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import gmi
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("gmi"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(gmi(glucose), expected("gmi", file)[subject])


def test_gmi_by_hand() -> None:
    # Mean (120 + 180) / 2 = 150: 3.31 + 0.02392 * 150 = 3.31 + 3.588 = 6.898 %.
    assert gmi([120, np.nan, 180]) == {"GMI": pytest.approx(6.898, rel=1e-14)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(gmi([])["GMI"])
