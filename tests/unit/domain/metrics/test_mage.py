"""MAGE (moving-average algorithm): hand-computed cases, the iglu-python oracle, properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from glucosestream.domain.metrics import mage
from tests.unit.domain.metrics.series import (
    Series,
    at_minutes,
    oracle_value,
    relative_error,
    same_float,
    synthetic_cgm,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled


def _triangle(wiggle: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    # 5-min readings from 00:05 (so readings sit on the grid): 100 -> 200 over 2 h and back,
    # six full 4-h cycles ending on a nadir; optional alternating +-wiggle.
    k = np.arange(1, 48 * 6 + 2)
    phase = (k - 1) % 48
    g = np.where(phase < 24, 100 + phase * 100 / 24, 200 - (phase - 24) * 100 / 24)
    return at_minutes(k * 5), g + wiggle * np.where(k % 2, 1.0, -1.0)


@pytest.mark.parametrize("direction", ["avg", "plus", "minus", "service", "max"])
def test_triangle_wave_by_hand(direction: Any) -> None:
    # Every rise and fall is 100 mg/dL, far above the SD (~29), so MAGE+ = MAGE- = 100.
    assert mage(*_triangle(), direction=direction) == pytest.approx(100.0, rel=1e-12)


def test_small_wiggles_are_not_excursions() -> None:
    # +-5 mg/dL alternating wiggles (<< 1 SD) add no excursion but move the extremes: peaks at
    # odd readings become 205, nadirs the even neighbours 100 + 100/24 - 5; each rise/fall is
    # 205 - (100 + 100/24 - 5) = 105.8333...
    assert mage(*_triangle(5.0)) == pytest.approx(105 + 5 / 6, rel=1e-12)


def test_undefined_cases() -> None:
    t, g = _triangle()
    assert math.isnan(mage(t[:20], g[:20]))  # 20 grid points < long_ma = 32 (R returns NA)
    assert math.isnan(mage(t, np.full(t.size, 120.0)))  # SD < 1: no variation
    assert math.isnan(mage(t[:1], g[:1]))


@pytest.mark.parametrize(
    ("seed", "long_gaps"),
    [(0, (120,)), (1, (120, 240)), (2, (120,)), (3, (120, 300)), (4, (60,)), (5, (120, 240))],
)
def test_matches_iglu_python(iglu: Any, seed: int, long_gaps: tuple[int, ...]) -> None:
    series = synthetic_cgm(seed, long_gap_min=long_gaps)
    theirs = oracle_value(iglu.mage, series, "MAGE")
    ours = mage(series.times_ms, series.glucose)
    assert relative_error(ours, theirs) < 1e-6


@settings(max_examples=40, deadline=None)
@given(series=cgm_series())
def test_non_negative_and_order_invariant(series: Series) -> None:
    value = mage(series.times_ms, series.glucose)
    assert math.isnan(value) or value >= 0
    again = shuffled(series, 5)
    assert same_float(mage(again.times_ms, again.glucose), value)
