"""mean_glu: R iglu 4.3.0's values, a hand-computed series, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import mean_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("mean_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(mean_glu(glucose), expected("mean_glu", file)[subject])


def test_mean_by_hand() -> None:
    # (100 + 120 + 150) / 3, the NaN reading dropped.
    assert mean_glu([100, np.nan, 120, 150]) == {"mean": pytest.approx(370 / 3, rel=1e-15)}


def test_no_readings_is_undefined() -> None:
    assert math.isnan(mean_glu([])["mean"])
    assert math.isnan(mean_glu([np.nan])["mean"])
