"""quantile_glu: R iglu 4.3.0's values, hand-computed type 7 quantiles, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import quantile_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("quantile_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(quantile_glu(glucose), expected("quantile_glu", file)[subject])


def test_type_7_quantiles_by_hand() -> None:
    # n = 4 sorted 10, 20, 30, 40; h = 1 + 3p: p=.25 -> h=1.75 -> 10 + .75*10 = 17.5;
    # p=.5 -> h=2.5 -> 25; p=.75 -> h=3.25 -> 30 + .25*10 = 32.5.
    out = quantile_glu([40, 10, np.nan, 30, 20])
    assert out == {"0": 10.0, "25": 17.5, "50": 25.0, "75": 32.5, "100": 40.0}
    assert list(out) == ["0", "25", "50", "75", "100"]


def test_other_percentiles_are_named_as_r_does() -> None:
    # p = .1: h = 1 + 3*.1 = 1.3 -> 10 + .3*10 = 13; p = .025: h = 1.075 -> 10.75.
    out = quantile_glu([10, 20, 30, 40], quantiles=[10, 2.5])
    assert out == {"10": pytest.approx(13.0, rel=1e-15), "2.5": pytest.approx(10.75, rel=1e-15)}


def test_no_readings_is_undefined() -> None:
    assert all(math.isnan(v) for v in quantile_glu([np.nan]).values())
