"""cv_glu: R iglu 4.3.0's values, a hand-computed series, too few readings."""

from __future__ import annotations

import math

import pytest

from glucosestream.domain.metrics import cv_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("cv_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(cv_glu(glucose), expected("cv_glu", file)[subject])


def test_cv_by_hand() -> None:
    # Mean 120, sample SD 20 (see test_sd_glu): 100 * 20 / 120.
    assert cv_glu([100, 120, 140]) == {"CV": pytest.approx(100 * 20 / 120, rel=1e-15)}


def test_fewer_than_two_readings_is_undefined() -> None:
    assert math.isnan(cv_glu([120])["CV"])
    assert math.isnan(cv_glu([])["CV"])
