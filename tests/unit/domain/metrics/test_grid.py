"""iglu's CGMS2DayByDay grid: hand-computed cases and the iglu-python oracle."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from glucosestream.domain.metrics.grid import (
    MS_PER_DAY,
    GridUndefined,
    clean_series,
    day_by_day,
)
from tests.unit.domain.metrics.series import (
    DAY0_MS,
    MINUTE_MS,
    Series,
    at_minutes,
    oracle_frame,
    synthetic_cgm,
    unique_readings,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled


def test_interpolates_linearly_and_starts_one_step_after_midnight() -> None:
    # Readings 00:00=100, 00:05=110, 00:15=130, 00:20=120: intervals 5, 10, 5 -> median 5.
    # Grid points are 00:05, 00:10, ...: 110, (110+130)/2=120, 130, 120, then NaN. The 00:00
    # reading is not a grid point (iglu's grid starts at 00:00 + dt0).
    grid = day_by_day(at_minutes([0, 5, 15, 20]), [100.0, 110.0, 130.0, 120.0])
    assert grid.dt0 == 5
    assert grid.values.shape == (1, 288)
    np.testing.assert_array_equal(grid.values[0, :4], [110.0, 120.0, 130.0, 120.0])
    assert np.isnan(grid.values[0, 4:]).all()
    assert grid.flat_times_ms[0] == DAY0_MS + 5 * MINUTE_MS
    np.testing.assert_array_equal(grid.day_starts_ms, [DAY0_MS])


def test_long_gap_is_not_interpolated_short_gap_is() -> None:
    # 10-min readings to 00:30, then 01:10 (40-min gap <= 45: interpolated), then 02:00
    # (50-min gap > 45: NaN strictly between 01:10 and 02:00). Median interval 10 -> dt0 10.
    minutes = [0, 10, 20, 30, 70, 120]
    values = [100.0, 100.0, 100.0, 100.0, 140.0, 200.0]
    grid = day_by_day(at_minutes(minutes), values)
    flat = grid.flat
    assert grid.dt0 == 10
    # Points every 10 min from 00:10: 00:10-00:30 -> 100; 00:40 -> 100 + 40 * 10/40 = 110,
    # 00:50 -> 120, 01:00 -> 130; 01:10 is the reading 140.
    np.testing.assert_array_equal(flat[:7], [100, 100, 100, 110, 120, 130, 140])
    # 01:20 .. 01:50 are inside the 50-min gap; 02:00 is the reading itself.
    assert np.isnan(flat[7:11]).all()
    assert flat[11] == 200.0


def test_rows_are_local_calendar_days() -> None:
    # 23:50 on day 0 to 00:10 on day 2: three calendar days, three rows; row d runs from
    # 00:05 to the next midnight inclusive, so day 1's 00:00 is the last column of row 0.
    minutes = np.arange(1430, 2 * 1440 + 11, 5)
    grid = day_by_day(at_minutes(minutes), np.full(minutes.size, 120.0))
    assert grid.values.shape == (3, 288)
    np.testing.assert_array_equal(grid.day_starts_ms, DAY0_MS + np.arange(3) * MS_PER_DAY)
    assert np.isnan(grid.values[0, :285]).all()  # 00:05 .. 23:45 of day 0
    assert (grid.values[0, 285:] == 120.0).all()  # 23:50, 23:55, 24:00
    assert (grid.values[2, :2] == 120.0).all()  # 00:05, 00:10 of day 2
    assert np.isnan(grid.values[2, 2:]).all()


@pytest.mark.parametrize(
    ("interval_s", "expected"),
    [
        (150, 2),  # median 2.5 min rounds half to even -> 2 (R's round)
        (210, 4),  # 3.5 -> 4
        (420, 5),  # 7 does not divide 1440: 7 mod 5 = 2 -> 5
        (660, 10),  # 11 does not divide 1440: 11 mod 5 = 1 -> 10
        (780, 15),  # 13 mod 5 = 3 -> 15
        (1500, 20),  # 25 > 20 and does not divide 1440 -> 20
        (900, 15),  # divides 1440: kept
    ],
)
def test_dt0_is_the_rounded_median_made_to_divide_a_day(interval_s: int, expected: int) -> None:
    times = DAY0_MS + np.arange(40, dtype=np.int64) * interval_s * 1000
    assert day_by_day(times, np.full(40, 100.0)).dt0 == expected


def test_dt0_uses_the_median_not_the_mode() -> None:
    # Every interval jittered: 4 min 59 s appears 5 times (the mode, which iglu-python
    # truncates to 4 min), 5 min 01 s .. 5 min 06 s once each. The median, 5 min 01 s,
    # rounds to 5, which is what R iglu uses.
    intervals_s = [299] * 5 + [301, 302, 303, 304, 305, 306]
    times = DAY0_MS + np.concatenate([[0], np.cumsum(intervals_s)]) * 1000
    assert day_by_day(times, np.full(times.size, 100.0)).dt0 == 5


def test_clean_series_drops_nan_sorts_and_keeps_the_last_duplicate() -> None:
    t, g = clean_series([30, 10, 20, 10, 40], [3.0, 1.0, 2.0, 9.0, np.nan])
    np.testing.assert_array_equal(t, [10, 20, 30])
    np.testing.assert_array_equal(g, [9.0, 2.0, 3.0])


def test_undefined_grids_raise() -> None:
    with pytest.raises(GridUndefined):
        day_by_day([DAY0_MS], [100.0])
    with pytest.raises(GridUndefined):
        day_by_day(at_minutes([0, 60, 120]), [100.0, 110.0, 120.0])  # dt0 60 > inter_gap 45
    with pytest.raises(ValueError, match="differ in length"):
        day_by_day([1, 2], [100.0])


def _oracle_grid(iglu: Any, series: Series, dt0: int | None = None) -> tuple[np.ndarray, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values, _, dt0 = iglu.utils.CGMS2DayByDay(oracle_frame(series), dt0=dt0)
    return np.asarray(values, dtype=np.float64), int(dt0)


@pytest.mark.parametrize("seed", range(4))
def test_matches_iglu_python_grid(iglu: Any, seed: int) -> None:
    series = synthetic_cgm(seed, days=4, long_gap_min=(120, 240))
    theirs, their_dt0 = _oracle_grid(iglu, series)
    ours = day_by_day(series.times_ms, series.glucose)
    assert ours.dt0 == their_dt0 == 5
    # R sizes the grid ceiling(span + 1) days and iglu-python by calendar days, as we do.
    assert ours.values.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours.values), np.isnan(theirs))
    np.testing.assert_allclose(ours.values, theirs, rtol=1e-12, equal_nan=True)


def test_matches_iglu_python_grid_on_simulated_cohort(iglu: Any) -> None:
    simulator = pytest.importorskip("stream.simulator")
    deliveries = simulator.simulate(simulator.CohortConfig(patients=3, days=3, seed=11))
    readings = {d.reading.event_id: d.reading for d in deliveries}  # redeliveries dropped
    compared = 0
    for patient in sorted({r.patient_id for r in readings.values()}):
        mine = [r for r in readings.values() if r.patient_id == patient]
        local = np.array([r.measured_at + r.utc_offset_minutes * MINUTE_MS for r in mine])
        glucose = np.array([float(r.glucose_mg_dl) for r in mine])
        series = unique_readings(Series(local.astype(np.int64), glucose))
        order = np.argsort(series.times_ms)
        series = Series(series.times_ms[order], series.glucose[order])
        ours = day_by_day(series.times_ms, series.glucose)
        # The step is given to the oracle: on jittered 15-min (Libre-like) data iglu-python's
        # truncated mode gives 14 min, which does not divide a day and crashes its reshape,
        # where R's rounded median gives 15.
        theirs, _ = _oracle_grid(iglu, series, dt0=ours.dt0)
        np.testing.assert_allclose(ours.values, theirs, rtol=1e-12, atol=1e-9, equal_nan=True)
        compared += 1
    assert compared == 3


@settings(max_examples=60, deadline=None)
@given(series=cgm_series())
def test_grid_is_invariant_to_input_order(series: Series) -> None:
    try:
        expected = day_by_day(series.times_ms, series.glucose)
    except GridUndefined:
        with pytest.raises(GridUndefined):
            day_by_day(*vars(shuffled(series, 1)).values())
        return
    again = shuffled(series, 1)
    got = day_by_day(again.times_ms, again.glucose)
    np.testing.assert_array_equal(got.values, expected.values)
    finite = expected.flat[~np.isnan(expected.flat)]
    if finite.size:
        # Linear interpolation never leaves the range of the readings.
        assert finite.min() >= series.glucose.min() - 1e-9
        assert finite.max() <= series.glucose.max() + 1e-9
