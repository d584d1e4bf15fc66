"""hbgi: R iglu 4.3.0's values, a hand-computed HBGI, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import hbgi
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("hbgi"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(hbgi(glucose), expected("hbgi", file)[subject])


def test_hbgi_by_hand() -> None:
    # Readings >= 112.5 contribute max(f, 0)^2; 112.5 itself has f = -0.00019 -> 0.
    # All three count in n = 3.
    f200 = math.log(200) ** 1.084 - 5.381  # about 0.98
    want = 22.77 * (0 + f200**2) / 3
    assert hbgi([50, 112.5, np.nan, 200]) == {"HBGI": pytest.approx(want, rel=1e-13)}


def test_only_low_readings_give_zero() -> None:
    assert hbgi([50, 70, 100]) == {"HBGI": 0.0}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(hbgi([np.nan])["HBGI"])
