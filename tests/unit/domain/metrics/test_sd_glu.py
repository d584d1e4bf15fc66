"""sd_glu: R iglu 4.3.0's values, a hand-computed series, too few readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import sd_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("sd_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(sd_glu(glucose), expected("sd_glu", file)[subject])


def test_sample_sd_by_hand() -> None:
    # Mean 120, deviations -20, 0, 20: (400 + 0 + 400) / (3 - 1) = 400, SD 20 (n - 1, not n).
    assert sd_glu([100, 120, np.nan, 140]) == {"SD": pytest.approx(20.0, rel=1e-15)}


def test_fewer_than_two_readings_is_undefined() -> None:
    # R's sd() of one value is NA.
    assert math.isnan(sd_glu([120, np.nan])["SD"])
    assert math.isnan(sd_glu([])["SD"])
