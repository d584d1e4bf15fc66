"""lbgi: R iglu 4.3.0's values, a hand-computed LBGI, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import lbgi
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("lbgi"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(lbgi(glucose), expected("lbgi", file)[subject])


def test_lbgi_by_hand() -> None:
    # Only readings below 112.5 contribute, all three count in n = 3.
    f50 = math.log(50) ** 1.084 - 5.381  # about -1.95
    f100 = math.log(100) ** 1.084 - 5.381  # about -0.145
    want = 22.77 * (f50**2 + f100**2) / 3
    assert lbgi([50, np.nan, 100, 200]) == {"LBGI": pytest.approx(want, rel=1e-13)}


def test_only_readings_below_112_5_count() -> None:
    # f(112.5) = -0.00019 is still negative (f crosses 0 near 112.506), but R selects readings
    # by gl < 112.5, so 112.5 adds nothing.
    assert lbgi([112.5, 150, 200, 300]) == {"LBGI": 0.0}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(lbgi([])["LBGI"])
