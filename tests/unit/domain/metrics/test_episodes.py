"""Episodes: hand-computed cases, the iglu-python oracle and properties."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.metrics import DayByDayGrid, EpisodeReport, episodes, episodes_of_grid
from glucosestream.domain.metrics.episodes import COUNTED_EPISODES, episode_counts_of_grids
from glucosestream.domain.metrics.grid import grid_or_none
from tests.unit.domain.metrics.series import (
    DAY0_MS,
    MINUTE_MS,
    Series,
    at_minutes,
    oracle_frame,
    synthetic_cgm,
)
from tests.unit.domain.metrics.strategies import cgm_series, shuffled


def _on_grid(values: list[float], first_minute: int = 5) -> EpisodeReport:
    """Readings every 5 min from ``first_minute`` (grid points from 00:05), so grid = input."""
    minutes = first_minute + 5 * np.arange(len(values))
    return episodes(at_minutes(minutes), np.asarray(values, dtype=np.float64))


def test_fifteen_minutes_below_70_is_one_episode() -> None:
    # 100 x6, 65 x3, 100 x6 on the 5-min grid: three points (15 min) < 70 start an episode at
    # the first of them (00:35); the three points back >= 70 end it. Present grid time 75 min
    # -> 1 / (75/1440) = 19.2 episodes per day.
    report = _on_grid([100.0] * 6 + [65.0] * 3 + [100.0] * 6)
    (episode,) = report.episodes
    assert (episode.kind, episode.level) == ("hypo", "lv1")
    assert episode.start_ms == DAY0_MS + 35 * MINUTE_MS
    assert episode.end_ms == DAY0_MS + 50 * MINUTE_MS
    assert (episode.duration_min, episode.extreme_mg_dl, episode.mean_mg_dl) == (15, 65.0, 65.0)
    assert episode.exclusive
    row = report.summary[0]
    assert (row.kind, row.level, row.total_episodes) == ("hypo", "lv1", 1)
    assert row.avg_ep_per_day == pytest.approx(19.2, rel=1e-12)
    assert (row.avg_ep_duration, row.avg_ep_gl) == (15.0, 65.0)
    assert report.count("hypo", "lv1_excl") == 1
    assert report.count("hypo", "lv2") == 0
    assert math.isnan(report.summary[1].avg_ep_gl)  # no lv2 episode: iglu reports NA


def test_ten_minutes_below_is_no_episode() -> None:
    assert _on_grid([100.0] * 6 + [65.0] * 2 + [100.0] * 6).episodes == ()


def test_a_short_recovery_does_not_end_an_episode() -> None:
    # 65 x3, 100 x2 (10 min back: too short to end), 60 x3, then 100 x3: one episode of 8
    # points = 40 min, mean (3*65 + 2*100 + 3*60) / 8 = 71.875, nadir 60.
    report = _on_grid([100.0] * 3 + [65.0] * 3 + [100.0] * 2 + [60.0] * 3 + [100.0] * 3)
    (episode,) = report.episodes
    assert (episode.duration_min, episode.extreme_mg_dl) == (40, 60.0)
    assert episode.mean_mg_dl == pytest.approx(71.875, rel=1e-12)


def test_level_2_inside_level_1_and_exclusivity() -> None:
    # 60, 50, 50, 50, 60 between normal values: lv1 = 5 points (25 min), lv2 = the three 50s
    # (15 min); the lv1 episode reaches lv2, so no exclusive lv1 episode.
    report = _on_grid([100.0] * 3 + [60.0, 50.0, 50.0, 50.0, 60.0] + [100.0] * 3)
    durations = {(e.level, e.duration_min) for e in report.episodes}
    assert durations == {("lv1", 25), ("lv2", 15)}
    assert report.count("hypo", "lv1_excl") == 0
    assert not next(e for e in report.episodes if e.level == "lv1").exclusive


def test_a_long_gap_splits_an_episode() -> None:
    # 65 at 00:05-00:15, a 60-min hole (> 45: not interpolated), 65 at 01:15-01:25, then
    # 100 x3. Each present run has 3 points < 70: two 15-min episodes instead of one.
    minutes = [5, 10, 15, 75, 80, 85, 90, 95, 100]
    g = [65.0] * 6 + [100.0] * 3
    report = episodes(at_minutes(minutes), g)
    assert [e.duration_min for e in report.episodes] == [15, 15]
    assert report.count("hypo", "lv1") == 2


@pytest.mark.parametrize(("points", "extended"), [(25, 1), (24, 0)])
def test_extended_hypo_needs_more_than_120_minutes(points: int, extended: int) -> None:
    # Extended needs >= 120/5 + 1 = 25 consecutive points < 70.
    report = _on_grid([100.0] * 3 + [65.0] * points + [100.0] * 3)
    assert report.count("hypo", "extended") == extended
    assert report.count("hypo", "lv1") == 1


def test_hyper_levels_by_hand() -> None:
    # 190 x3 then 260 x3: lv1 hyper 6 points (30 min, peak 260), lv2 hyper 3 points.
    report = _on_grid([150.0] * 3 + [190.0] * 3 + [260.0] * 3 + [150.0] * 3)
    found = {(e.kind, e.level): (e.duration_min, e.extreme_mg_dl) for e in report.episodes}
    assert found == {("hyper", "lv1"): (30, 260.0), ("hyper", "lv2"): (15, 260.0)}
    assert report.count("hyper", "lv1_excl") == 0


def test_too_few_readings_give_zero_counts() -> None:
    report = episodes(at_minutes([0]), [50.0])
    assert report.dt0 is None
    assert [row.total_episodes for row in report.summary] == [0] * 7  # iglu's seven rows


@pytest.mark.parametrize("seed", range(5))
def test_summary_matches_iglu_python(iglu: Any, seed: int) -> None:
    series = synthetic_cgm(seed, long_gap_min=(120, 240))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = iglu.episode_calculation(oracle_frame(series))
    ours = episodes(series.times_ms, series.glucose).summary
    assert [(r.kind, r.level) for r in ours] == list(
        zip(theirs["type"], theirs["level"], strict=True)
    )
    assert [r.total_episodes for r in ours] == [int(v) for v in theirs["total_episodes"]]
    for column in ("avg_ep_per_day", "avg_ep_duration", "avg_ep_gl"):
        np.testing.assert_allclose(
            [getattr(r, column) for r in ours], theirs[column].to_numpy(float), rtol=1e-6
        )


@settings(max_examples=40, deadline=None)
@given(series=cgm_series())
def test_episode_invariants_and_order_invariance(series: Series) -> None:
    report = episodes(series.times_ms, series.glucose)
    assert len(report.summary) == 7  # iglu's seven rows
    assert all(row.total_episodes >= 0 for row in report.summary)
    for kind in ("hypo", "hyper"):
        assert report.count(kind, "lv1_excl") <= report.count(kind, "lv1")
        lv1 = [e for e in report.episodes if e.kind == kind and e.level == "lv1"]
        for e in (e for e in report.episodes if e.kind == kind and e.level == "lv2"):
            assert any(o.start_ms <= e.start_ms and e.end_ms <= o.end_ms for o in lv1)
    assert report.count("hypo", "extended") <= report.count("hypo", "lv1")
    for e in report.episodes:
        assert e.duration_min >= 15
        assert e.end_ms - e.start_ms == e.duration_min * MINUTE_MS
        assert e.extreme_mg_dl < 70 if e.kind == "hypo" else e.extreme_mg_dl > 180
    again = shuffled(series, 7)
    assert episodes(again.times_ms, again.glucose).episodes == report.episodes


def _counts(report: EpisodeReport) -> list[int]:
    return [report.count(kind, level) for kind, level in COUNTED_EPISODES]


@settings(max_examples=30, deadline=None)
@given(
    cohort=st.lists(st.tuples(cgm_series(max_points=900), st.sampled_from([1, 1, 3])), max_size=6)
)
def test_cohort_counts_equal_each_patients_own(cohort: list[tuple[Series, int]]) -> None:
    """Every patient's counts, found for the cohort at once, are those of its own grid; steps
    of 5 and 15 minutes mixed, patients without a grid among them."""
    grids = []
    for series, stretch in cohort:
        first = series.times_ms[:1]
        stretched = first + (series.times_ms - first) * stretch  # 15-minute readings
        grids.append(grid_or_none(stretched, series.glucose))
    counts = episode_counts_of_grids(grids)
    assert counts.shape == (len(grids), 4)
    expected = [[0] * 4 if grid is None else _counts(episodes_of_grid(grid)) for grid in grids]
    assert counts.tolist() == expected


def test_cohort_counts_keep_patients_apart() -> None:
    """Two below-70 points at the end of one grid and two at the start of the next are no
    episode (three are needed): the patients' points are not one run."""
    day = np.array([0], dtype=np.int64)
    ending = np.array([[100.0] * 286 + [60.0, 60.0]])
    starting = np.array([[60.0, 60.0] + [100.0] * 286])
    grids = [DayByDayGrid(ending, 5, day), DayByDayGrid(starting, 5, day)]
    assert episode_counts_of_grids(grids).tolist() == [[0, 0, 0, 0], [0, 0, 0, 0]]
    ends_with_one = DayByDayGrid(np.array([[100.0] * 285 + [60.0] * 3]), 5, day)
    starts_with_one = DayByDayGrid(np.array([[60.0] * 3 + [100.0] * 285]), 5, day)
    assert episode_counts_of_grids([ends_with_one, grids[1], starts_with_one]).tolist() == [
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [1, 0, 0, 0],
    ]


def test_cohort_counts_of_nobody_and_of_no_grid() -> None:
    assert episode_counts_of_grids([]).shape == (0, 4)
    assert episode_counts_of_grids([None]).tolist() == [[0, 0, 0, 0]]
