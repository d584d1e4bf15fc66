"""in_range_percent: R iglu 4.3.0's values, a hand-computed series, no readings."""

from __future__ import annotations

import math

import pytest

from glucosestream.domain.metrics import in_range_percent
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("in_range_percent"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(in_range_percent(glucose), expected("in_range_percent", file)[subject])


def test_closed_ranges_by_hand() -> None:
    # 7 readings. 70-180 holds 70, 140, 150, 180 (both ends count); 63-140 holds 63, 70, 140.
    out = in_range_percent([63, 70, 140, 180, 181, 62, 150])
    assert out == {
        "in_range_63_140": pytest.approx(100 * 3 / 7, rel=1e-14),
        "in_range_70_180": pytest.approx(100 * 4 / 7, rel=1e-14),
    }


def test_range_ends_in_any_order() -> None:
    # R sorts the ends: (180, 70) is 70-180 and is named so. 2 of 3 readings inside.
    assert in_range_percent([69, 70, 180], target_ranges=[(180, 70)]) == {
        "in_range_70_180": pytest.approx(100 * 2 / 3, rel=1e-14)
    }


def test_no_readings_is_undefined() -> None:
    out = in_range_percent([])
    assert list(out) == ["in_range_63_140", "in_range_70_180"]
    assert all(math.isnan(v) for v in out.values())
