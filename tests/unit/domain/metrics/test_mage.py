"""MAGE (moving-average algorithm): hand-computed cases, the iglu-python oracle, properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.metrics import mage
from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none
from glucosestream.domain.metrics.mage import (
    MAGE_DT0,
    _excursions_down,
    _excursions_up,
    _extrema,
    mages_of_grids,
    mages_on_shared_grids,
)
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


@st.composite
def _split_series(draw: st.DrawFn) -> Series:
    """A series, sometimes with a gap of 3.5-7 h (MAGE then works on two segments)."""
    series = draw(cgm_series(max_points=900))
    gap = draw(st.sampled_from([0, 0, 42, 84]))
    if not gap or series.times_ms.size < 3:
        return series
    cut = draw(st.integers(min_value=1, max_value=series.times_ms.size - 1))
    keep = np.ones(series.times_ms.size, dtype=bool)
    keep[cut : cut + gap] = False
    return Series(series.times_ms[keep], series.glucose[keep])


@settings(max_examples=40, deadline=None)
@given(
    cohort=st.lists(_split_series(), max_size=6),
    direction=st.sampled_from(["avg", "plus", "minus", "service", "max"]),
)
def test_a_cohort_at_once_equals_each_patient_alone(cohort: list[Series], direction: Any) -> None:
    """The moving averages and crossings of every patient's segments are found in one pass
    over all of them: no segment reads another's points."""
    grids = [grid_or_none(s.times_ms, s.glucose, dt0=MAGE_DT0) for s in cohort]
    present = [grid for grid in grids if grid is not None]
    alone = [mages_of_grids([grid], direction=direction)[0] for grid in present]
    together = mages_of_grids(present, direction=direction)
    assert all(same_float(a, b) for a, b in zip(together, alone, strict=True))
    assert mages_on_shared_grids(grids, [(s.times_ms, s.glucose) for s in cohort]) == [
        pytest.approx(mage(s.times_ms, s.glucose), nan_ok=True) for s in cohort
    ]


def test_a_cohort_keeps_each_segments_first_points_apart() -> None:
    """A falling patient then a rising one: the second's first moving averages are its own
    (back-filled), not windows reaching into the first patient's points."""
    t, g = _triangle()
    falling = grid_or_none(t, g[::-1])
    rising = grid_or_none(t, g)
    assert falling is not None
    assert rising is not None
    assert mages_of_grids([falling, rising]) == [
        mages_of_grids([falling])[0],
        mages_of_grids([rising])[0],
    ]
    # Flat at first, then steps: both moving averages start equal (no reference sign), and a
    # sign change across an exact zero before the first true flip is no crossing (iglu).
    steps = [(150, 40), (100, 8), (130, 16), (220, 8), (100, 8), (220, 8), (190, 16), (130, 8)]
    steps += [(160, 16), (130, 16), (190, 8), (130, 8), (220, 16), (100, 8), (160, 8), (190, 8)]
    steps += [(160, 8), (130, 8), (190, 8), (220, 16), (130, 16), (160, 8), (100, 8), (160, 8)]
    steps += [(130, 8)]
    values = np.repeat([float(v) for v, _ in steps], [n for _, n in steps]).reshape(1, 288)
    flat_first = DayByDayGrid(values, MAGE_DT0, np.array([0], dtype=np.int64))
    alone = mages_of_grids([flat_first])[0]
    assert mages_of_grids([rising, flat_first])[1] == alone
    assert mages_of_grids([]) == []
    with pytest.raises(ValueError, match="unknown direction"):
        mages_of_grids([rising], direction="sideways")  # type: ignore[arg-type]


def _minmax_as_iglu(gl: np.ndarray, ids: list[int], types: list[int]) -> list[float]:
    """iglu's minmax loop, plainly: each window from the last turning point to the next
    crossing, its first nadir or peak."""
    out, left = [], ids[0]
    for i in range(len(ids) - 1):
        window = gl[left : ids[i + 1] + 1]
        k = int(np.nanargmin(window) if types[i] == 0 else np.nanargmax(window))
        out.append(float(window[k]))
        left += k
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    segments=st.integers(min_value=1, max_value=4),
)
def test_turning_points_of_all_windows_at_once_are_iglus(seed: int, segments: int) -> None:
    """The fixed point of the chained window searches is the sequential result, windows of
    every width (rows of 64 and 512 points, and longer ones one by one), ties and gaps
    included."""
    rng = np.random.default_rng(seed)
    parts, ids, types, bounds = [], [], [], [0]
    offset = 0
    for _ in range(segments):
        n = int(rng.integers(2, 1500))
        gl = np.round(rng.normal(150, 40, n) / 5) * 5  # whole steps: many equal values
        gl[rng.random(n) < 0.1] = np.nan
        inner = np.sort(rng.choice(np.arange(1, n), size=int(rng.integers(0, n // 3 + 1))))
        seg_ids = [0, *inner.tolist(), n - 1]
        gl[seg_ids] = np.where(np.isnan(gl[seg_ids]), 150.0, gl[seg_ids])  # crossings present
        parts.append(gl)
        ids += [offset + i for i in seg_ids]
        types += rng.integers(0, 2, len(seg_ids)).tolist()
        bounds.append(len(ids))
        offset += n
    everything = np.concatenate(parts)
    found = _extrema(everything, np.array(ids), np.array(types), np.array(bounds))
    expected = []
    for s, part in enumerate(parts):
        start = bounds[s]
        local = [i - (ids[start]) for i in ids[start : bounds[s + 1]]]
        expected += _minmax_as_iglu(part, local, types[start : bounds[s + 1]])
    assert found.tolist() == expected


def _excursions_as_iglu(values: list[float], sd: float, up: bool) -> tuple[list, list]:
    """iglu's MAGE+ (MAGE-) loop, plainly: at every point the first largest rise (fall) since
    the restart is searched for afresh."""
    sign = 1 if up else -1
    heights, pairs = [], []
    n, j, prev_j = len(values), 0, 0
    while j < n:
        changes = [sign * (values[j] - values[i]) for i in range(prev_j, j + 1)]
        i = prev_j + changes.index(max(changes))
        if max(changes) >= sd:
            for k in range(j, n):
                if sign * (values[k] - values[j]) > 0:
                    j = k
                if sign * (values[k] - values[j]) < -sd or k == n - 1:
                    heights.append(values[j] - values[i])
                    pairs.append((i, j))
                    prev_j, j = (k, k) if up else (j, k)
                    break
        else:
            j += 1
    return heights, pairs


_TIE_PRONE = [60.0, 90.0, 100.0, 100.0 - 2**-46, 140.0, 150.0 + 7 * 2**-45, 200.0, 300.0]
_TIE_PRONE += [500.0 - 2**-44, 500.0]
"""Turning points whose changes can round alike: 300 - 100 and 300 - (100 - 2**-46) are both
200.0; (150 + 7 * 2**-45) - 500 and (150 + 7 * 2**-45) - (500 - 2**-44) are the same double."""


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.sampled_from(_TIE_PRONE), max_size=40),
    sd=st.sampled_from([1.0, 10.0, 20.0, 40.0, 45.0]),
)
def test_excursion_scans_are_iglus(values: list[float], sd: float) -> None:
    """Same excursions and turning points as the plain loop, rounding ties included
    (:data:`_TIE_PRONE`): the earlier of two points whose changes round alike is iglu's nadir
    (peak) even when it is the higher (lower)."""
    turns = np.array(values)
    assert _excursions_up(turns, sd) == _excursions_as_iglu(values, sd, up=True)
    assert _excursions_down(turns, sd) == _excursions_as_iglu(values, sd, up=False)


def test_a_rounding_tie_keeps_the_earlier_turning_point() -> None:
    below = 100.0 - 2**-46  # 300 - below rounds to 200, as 300 - 100 does
    heights, pairs = _excursions_up(np.array([100.0, below, 300.0, 100.0]), 20.0)
    assert pairs == [(0, 2)]
    assert heights == [200.0]
    above = 500.0 - 2**-44  # (150 + 7 * 2**-45) minus either rounds alike
    heights, pairs = _excursions_down(np.array([above, 500.0, 150.0 + 7 * 2**-45, 500.0]), 20.0)
    assert pairs == [(0, 2)]


def test_mage_minus_restarts_at_the_nadir() -> None:
    """After a fall, iglu searches again from the nadir: a rise of exactly 1 SD after it and
    back down is a second fall (the peak is inside the restarted search, not at its end)."""
    heights, pairs = _excursions_down(np.array([300.0, 100.0, 120.0, 100.0]), 20.0)
    assert pairs == [(0, 1), (2, 3)]
    assert heights == [-200.0, -20.0]
