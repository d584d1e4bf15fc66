"""Active percent: hand-computed cases, the iglu-python oracle and properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from glucosestream.domain.metrics import active_percent
from tests.unit.domain.metrics.series import (
    Series,
    at_minutes,
    oracle_value,
    relative_error,
    same_float,
    synthetic_cgm,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled


def test_missing_readings_by_hand() -> None:
    # 00:00 .. 01:00 every 5 min without 00:25 and 00:30: expected round(60/5) + 1 = 13, one
    # gap of 15 min -> round((15 - 5)/5) = 2 missing; 11/13.
    minutes = [m for m in range(0, 61, 5) if m not in (25, 30)]
    g = np.full(len(minutes), 120.0)
    assert active_percent(at_minutes(minutes), g) == pytest.approx(100 * 11 / 13, rel=1e-12)


def test_clock_jitter_below_half_a_minute_is_not_a_gap() -> None:
    # Intervals 5.4, 4.6, 5.4, 4.6 ... and one 10-min hole. round(5.4) = 5 is no gap (R's
    # tolerance); the 10-min interval is one missing reading. Span 5*20 + 10 = 110 min ->
    # expected 23, missing round((10 - 5)/5) = 1: 22/23.
    intervals = [5.4, 4.6] * 10 + [10.0]
    minutes = np.concatenate([[0.0], np.cumsum(intervals)])
    g = np.full(minutes.size, 120.0)
    assert active_percent(at_minutes(minutes), g) == pytest.approx(100 * 22 / 23, rel=1e-12)


def test_nan_readings_are_absent_and_empty_is_undefined() -> None:
    minutes = list(range(0, 61, 5))
    g = np.full(len(minutes), 120.0)
    g[5:7] = np.nan  # same as dropping 00:25 and 00:30
    assert active_percent(at_minutes(minutes), g) == pytest.approx(100 * 11 / 13, rel=1e-12)
    assert math.isnan(active_percent([], []))
    assert math.isnan(active_percent(at_minutes([0]), [100.0]))
    assert active_percent(at_minutes([0]), [100.0], dt0=5) == 100.0


@pytest.mark.parametrize("seed", range(4))
def test_matches_iglu_python_without_sub_minute_jitter(iglu: Any, seed: int) -> None:
    # iglu-python counts any interval > dt0 as a gap where R first rounds it to whole
    # minutes, so the two agree only when intervals are whole minutes.
    series = synthetic_cgm(seed, jitter_share=0.0, long_gap_min=(120, 240))
    theirs = oracle_value(iglu.active_percent, series, "active_percent")
    ours = active_percent(series.times_ms, series.glucose)
    assert relative_error(ours, theirs) < 1e-6


@settings(max_examples=60, deadline=None)
@given(series=cgm_series())
def test_within_bounds_and_order_invariant(series: Series) -> None:
    value = active_percent(series.times_ms, series.glucose)
    assert math.isnan(value) or 0 <= value <= 100
    again = shuffled(series, 6)
    assert same_float(active_percent(again.times_ms, again.glucose), value)
