"""MAG: hand-computed cases, the iglu-python oracle and properties."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from glucosestream.domain.metrics import mag
from tests.unit.domain.metrics.series import (
    Series,
    at_minutes,
    oracle_frame,
    oracle_value,
    relative_error,
    same_float,
    synthetic_cgm,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled

# Readings every 30 min; grid (dt0 30) from 00:30: 110, 130, 120, 160, 150, then NaN.
HALF_HOURLY = (at_minutes([0, 30, 60, 90, 120, 150]), [100.0, 110.0, 130.0, 120.0, 160.0, 150.0])


def test_mag_at_the_grid_step_by_hand() -> None:
    # n = dt0 = 30 min: |20| + |-10| + |40| + |-10| = 80 mg/dL over 4 * 0.5 h = 40 mg/dL/h.
    assert mag(*HALF_HOURLY, n=None) == pytest.approx(40.0, rel=1e-12)


def test_hourly_mag_samples_every_hour_by_hand() -> None:
    # n = 60 min: every 2nd grid point from the first: 110, 120, 150 -> |10| + |30| = 40 over
    # 2 * 1 h = 20 mg/dL/h (R iglu 4.3.0). The iglu-python port would average all overlapping
    # 1-h differences instead: (10 + 30 + 30) / 3 h = 23.3.
    assert mag(*HALF_HOURLY, n=60) == pytest.approx(20.0, rel=1e-12)


def test_n_is_raised_to_dt0_and_rounded_to_a_multiple() -> None:
    assert mag(*HALF_HOURLY, n=10) == mag(*HALF_HOURLY, n=None)
    assert mag(*HALF_HOURLY, n=70) == mag(*HALF_HOURLY, n=60)  # round(70/30) * 30 = 60


def test_gaps_neither_add_change_nor_dilute_it() -> None:
    # A 2-h gap (not interpolated) between two flat stretches at different levels adds no
    # difference: only 5-min steps within each stretch count, and they are all 0.
    minutes = np.concatenate([np.arange(0, 60, 5), np.arange(180, 240, 5)])
    g = np.where(minutes < 120, 100.0, 200.0)
    assert mag(at_minutes(minutes), g, n=None) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_matches_iglu_python_at_the_grid_step(iglu: Any, seed: int) -> None:
    series = synthetic_cgm(seed, long_gap_min=(120, 240))
    theirs = oracle_value(iglu.mag, series, "MAG")
    ours = mag(series.times_ms, series.glucose, n=None)
    assert relative_error(ours, theirs) < 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_hourly_mag_is_r_formula_on_the_oracle_grid(iglu: Any, seed: int) -> None:
    # iglu-python's MAG for n > dt0 departs from R; R 4.3.0's formula, applied here to the
    # oracle's own grid, is: flat[seq(1, len, by = n/dt0)], diff, na.omit, sum|d| / (len * n/60).
    series = synthetic_cgm(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gd2d, _, dt0 = iglu.utils.CGMS2DayByDay(oracle_frame(series))
    sampled = np.asarray(gd2d).ravel()[:: 60 // dt0]
    d = np.diff(sampled)
    d = d[~np.isnan(d)]
    expected = np.abs(d).sum() / (d.size * 60 / 60)
    assert relative_error(mag(series.times_ms, series.glucose, n=60), expected) < 1e-6


@settings(max_examples=40, deadline=None)
@given(series=cgm_series())
def test_non_negative_and_order_invariant(series: Series) -> None:
    value = mag(series.times_ms, series.glucose)
    assert math.isnan(value) or value >= 0
    again = shuffled(series, 4)
    assert same_float(mag(again.times_ms, again.glucose), value)
