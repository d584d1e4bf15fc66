"""summary_glu: R iglu 4.3.0's values, a hand-computed summary, no readings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import summary_glu
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r


@pytest.mark.parametrize(("file", "subject"), cases("summary_glu"))
def test_matches_r_iglu(file: str, subject: str) -> None:
    _, glucose = subjects(file)[subject]
    assert_matches_r(summary_glu(glucose), expected("summary_glu", file)[subject])


def test_summary_by_hand() -> None:
    # Sorted 10, 20, 30, 100 (n = 4, h = 1 + 3p): Q1 h=1.75 -> 17.5, median 25,
    # Q3 h=3.25 -> 30 + .25*70 = 47.5; mean 160 / 4 = 40.
    out = summary_glu([100, 20, np.nan, 10, 30])
    assert out == {
        "Min.": 10.0,
        "1st Qu.": 17.5,
        "Median": 25.0,
        "Mean": 40.0,
        "3rd Qu.": 47.5,
        "Max.": 100.0,
    }


def test_no_readings_is_undefined() -> None:
    out = summary_glu([])
    assert list(out) == ["Min.", "1st Qu.", "Median", "Mean", "3rd Qu.", "Max."]
    assert all(math.isnan(v) for v in out.values())
