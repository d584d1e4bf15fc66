"""CONGA-n: hand-computed cases, the iglu-python oracle and properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from glucosestream.domain.metrics import conga
from tests.unit.domain.metrics.series import (
    Series,
    at_minutes,
    oracle_value,
    relative_error,
    same_float,
    synthetic_cgm,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled

# Readings every 30 min from 00:00; the grid (dt0 30) starts at 00:30, so 100 is not on it.
HALF_HOURLY = (at_minutes([0, 30, 60, 90, 120, 150]), [100.0, 110.0, 130.0, 120.0, 160.0, 150.0])


def test_conga_1_by_hand() -> None:
    # Grid 110, 130, 120, 160, 150; one hour = round(60/30) = 2 points; differences
    # 120-110=10, 160-130=30, 150-120=30; mean 70/3; sample SD
    # sqrt(((10-70/3)^2 + 2*(30-70/3)^2) / 2) = sqrt(400/3) = 11.547...
    assert conga(*HALF_HOURLY, n=1) == pytest.approx(math.sqrt(400 / 3), rel=1e-12)


def test_conga_24_is_undefined_for_less_than_a_day() -> None:
    assert math.isnan(conga(*HALF_HOURLY))


def test_conga_24_of_a_repeating_day_shifted_by_a_constant_is_zero() -> None:
    # Day 2 = day 1 + 15 mg/dL at every time of day: every 24 h difference is 15, SD 0.
    minutes = np.arange(0, 2 * 1440, 5)
    g = 120 + 30 * np.sin(2 * np.pi * minutes / 1440) + 15 * (minutes >= 1440)
    assert conga(at_minutes(minutes), g) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("seed", "hours"), [(0, 24), (1, 24), (2, 1), (3, 2), (4, 24)])
def test_matches_iglu_python(iglu: Any, seed: int, hours: int) -> None:
    series = synthetic_cgm(seed, long_gap_min=(120, 240))
    theirs = oracle_value(iglu.conga, series, "CONGA", n=hours)
    ours = conga(series.times_ms, series.glucose, n=hours)
    assert relative_error(ours, theirs) < 1e-6


@settings(max_examples=40, deadline=None)
@given(series=cgm_series())
def test_non_negative_and_order_invariant(series: Series) -> None:
    value = conga(series.times_ms, series.glucose, n=1)
    assert math.isnan(value) or value >= 0
    again = shuffled(series, 2)
    assert same_float(conga(again.times_ms, again.glucose, n=1), value)
