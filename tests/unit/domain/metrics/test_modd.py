"""MODD: hand-computed cases, the iglu-python oracle and properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from glucosestream.domain.metrics import modd
from tests.unit.domain.metrics.series import (
    Series,
    at_minutes,
    oracle_value,
    relative_error,
    same_float,
    synthetic_cgm,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled


def test_modd_by_hand() -> None:
    # Half-hourly readings over two days and the closing midnight: day 0 = 100 + h, day 1 =
    # 100 + 2h (h = hour of day), 100 at both midnights. Grid column j (j = 1..48) is
    # 00:00 + 30j min; the last column is the next midnight. Differences day1 - day0:
    # (100 + j) - (100 + j/2) = j/2 for j = 1..47 and 100 - 100 = 0 at j = 48.
    # MODD = (sum_{j=1}^{47} j/2) / 48 = (47*48/4) / 48 = 11.75.
    minutes = np.arange(0, 2 * 1440 + 1, 30)
    hour = (minutes % 1440) / 60
    g = np.where(minutes < 1440, 100 + hour, 100 + 2 * hour)
    g[minutes == 2 * 1440] = 100.0
    assert modd(at_minutes(minutes), g) == pytest.approx(11.75, rel=1e-12)


def test_modd_needs_two_days() -> None:
    minutes = np.arange(0, 600, 5)
    assert math.isnan(modd(at_minutes(minutes), np.full(minutes.size, 120.0)))


@pytest.mark.parametrize(("seed", "lag"), [(0, 1), (1, 1), (2, 1), (3, 2), (5, 1)])
def test_matches_iglu_python(iglu: Any, seed: int, lag: int) -> None:
    series = synthetic_cgm(seed, long_gap_min=(120, 240))
    theirs = oracle_value(iglu.modd, series, "MODD", lag=lag)
    ours = modd(series.times_ms, series.glucose, lag=lag)
    assert relative_error(ours, theirs) < 1e-6


@settings(max_examples=40, deadline=None)
@given(series=cgm_series())
def test_non_negative_and_order_invariant(series: Series) -> None:
    value = modd(series.times_ms, series.glucose)
    assert math.isnan(value) or value >= 0
    again = shuffled(series, 3)
    assert same_float(modd(again.times_ms, again.glucose), value)
