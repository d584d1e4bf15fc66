"""iqr_glu: R iglu 4.3.0's values, a hand-computed IQR, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import iqr_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("iqr_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(iqr_glu(glucose), expected("iqr_glu", file)[subject])


def test_iqr_by_hand() -> None:
    # Sorted 10, 20, 30, 100: Q3 = 30 + .25*70 = 47.5, Q1 = 10 + .75*10 = 17.5.
    assert iqr_glu([30, 10, 100, np.nan, 20]) == {"IQR": 30.0}


def test_one_reading_is_zero_and_none_is_undefined() -> None:
    assert iqr_glu([120]) == {"IQR": 0.0}
    assert math.isnan(iqr_glu([np.nan])["IQR"])
