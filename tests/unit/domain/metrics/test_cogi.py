"""cogi: R iglu 4.3.0's values, hand-computed COGI, too few readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import cogi
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("cogi"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(cogi(glucose), expected("cogi", file)[subject])


def test_cogi_by_hand() -> None:
    # 60, 100, 150, 200: TIR(70-180) = 2/4 = 50 % -> 0.5 * 50/100; TBR(<70) = 25 % >= 15 % -> 0;
    # mean 127.5, squared deviations 4556.25 + 756.25 + 506.25 + 5256.25 = 11075, SD =
    # sqrt(11075 / 3) = 60.76 -> 0.15 * (108 - SD) / (108 - 18).
    sd = math.sqrt(11075 / 3)
    want = 100 * (0.5 * 0.5 + 0 + 0.15 * (108 - sd) / 90)
    assert cogi([60, 100, np.nan, 150, 200]) == {"COGI": pytest.approx(want, rel=1e-13)}


def test_each_feature_capped_at_its_full_weight() -> None:
    # All in range (0.5), none below (0.35), SD 10 < 18 mg/dL (capped: 0.15): 100 %.
    assert cogi([100, 110, 120]) == {"COGI": pytest.approx(100.0, rel=1e-14)}


def test_fewer_than_two_readings_is_undefined() -> None:
    # R's sd() of one value is NA, and so is COGI.
    assert math.isnan(cogi([120])["COGI"])
    assert math.isnan(cogi([])["COGI"])
