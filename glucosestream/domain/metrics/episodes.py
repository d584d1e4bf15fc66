"""Hypo- and hyperglycaemic episodes (iglu's ``episode_calculation``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.grid import (
    MS_PER_MINUTE,
    DayByDayGrid,
    grid_or_none,
)

__all__ = [
    "COUNTED_EPISODES",
    "Episode",
    "EpisodeKind",
    "EpisodeLevel",
    "EpisodeReport",
    "EpisodeSummary",
    "episode_counts_of_grids",
    "episodes",
    "episodes_of_grid",
    "episodes_on_shared_grid",
]

EpisodeKind = Literal["hypo", "hyper"]
EpisodeLevel = Literal["lv1", "lv2", "extended", "lv1_excl"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# iglu's summary row order.
_ROW_ORDER: tuple[tuple[EpisodeKind, EpisodeLevel], ...] = (
    ("hypo", "lv1"),
    ("hypo", "lv2"),
    ("hypo", "extended"),
    ("hyper", "lv1"),
    ("hyper", "lv2"),
    ("hypo", "lv1_excl"),
    ("hyper", "lv1_excl"),
)
# Extended hypoglycaemia: more than 120 minutes below the level-1 threshold (iglu).
_EXTENDED_MINUTES = 120
HYPO_LV1_MG_DL = 70.0
HYPO_LV2_MG_DL = 54.0
HYPER_LV1_MG_DL = 180.0
HYPER_LV2_MG_DL = 250.0
"""Episode thresholds, mg/dL (Battelino 2023; iglu's defaults): hypo below, hyper above."""
EPISODE_MINUTES = 15
"""Minutes beyond a threshold that start an episode, and back within it that end one."""


@dataclass(frozen=True, slots=True)
class Episode:
    """One episode on the grid.

    Attributes
    ----------
    kind
        "hypo" or "hyper".
    level
        "lv1", "lv2" or "extended" (hypo only).
    start_ms
        Grid instant (naive local epoch ms) of the episode's first point.
    end_ms
        ``start_ms + duration_min`` minutes: the grid instant at which the qualifying return
        run begins (or one step after the last point when the data stop first).
    duration_min
        Grid points in the episode × dt0, as iglu counts it.
    extreme_mg_dl
        Nadir (hypo) or peak (hyper) of the interpolated glucose in the episode.
    mean_mg_dl
        Mean interpolated glucose in the episode (what iglu averages into ``avg_ep_gl``).
    exclusive
        For level-1 episodes, True when no level-2 episode of the same kind overlaps it
        (iglu's ``lv1_excl``); False otherwise.
    """

    kind: EpisodeKind
    level: EpisodeLevel
    start_ms: int
    end_ms: int
    duration_min: int
    extreme_mg_dl: float
    mean_mg_dl: float
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class EpisodeSummary:
    """One row of iglu's episode summary.

    Attributes
    ----------
    kind, level
        As iglu's ``type`` and ``level`` ("lv1", "lv2", "extended", "lv1_excl").
    avg_ep_per_day
        Episodes per day of non-missing grid time.
    avg_ep_duration
        Mean episode duration, minutes (0 when there is none).
    avg_ep_gl
        Mean of the episodes' mean glucose, mg/dL (NaN when there is none).
    total_episodes
        Number of episodes.
    """

    kind: EpisodeKind
    level: EpisodeLevel
    avg_ep_per_day: float
    avg_ep_duration: float
    avg_ep_gl: float
    total_episodes: int


@dataclass(frozen=True, slots=True)
class EpisodeReport:
    """Episodes of one patient and iglu's seven summary rows.

    Attributes
    ----------
    episodes
        lv1, lv2 and extended episodes in (kind, level, start) order.
    summary
        Rows in iglu's order: hypo lv1, hypo lv2, hypo extended, hyper lv1, hyper lv2,
        hypo lv1_excl, hyper lv1_excl.
    dt0
        Grid step in minutes, None when the series could not be gridded.
    """

    episodes: tuple[Episode, ...]
    summary: tuple[EpisodeSummary, ...]
    dt0: int | None

    def count(self, kind: EpisodeKind, level: EpisodeLevel) -> int:
        """``total_episodes`` of one summary row."""
        for row in self.summary:
            if row.kind == kind and row.level == level:
                return row.total_episodes
        raise KeyError((kind, level))


def _runs(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Start (inclusive) and stop (exclusive) indices of the True runs of ``mask``."""
    padded = np.zeros(mask.size + 2, dtype=bool)
    padded[1:-1] = mask
    # Changes alternate: a run's start, its stop, the next start, ...
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return changes[0::2], changes[1::2]


def _classify(
    gl: FloatArray, beyond: BoolArray, min_points: float, end_points: float
) -> tuple[IntArray, IntArray]:
    """Episodes of one threshold as (first, last) grid indices (iglu's ``event_class``).

    Within each run of present points, an episode starts at the first point of a run of
    ``≥ min_points`` points beyond the threshold and lasts until just before the next run of
    ``≥ end_points`` present points back within it, or to the end of the present run. Later
    starts before that end belong to the same episode.
    """
    present = ~np.isnan(gl)
    inside = beyond & present
    back = ~beyond & present
    in_start, in_stop = _runs(inside)
    starts = in_start[(in_stop - in_start) >= min_points]
    if starts.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    back_start, back_stop = _runs(back)
    ends = back_start[(back_stop - back_start) >= end_points]
    _, present_stop = _runs(present)
    # The end of each present run closes whatever episode is still open in it; since present
    # runs do not overlap, the first boundary after a start is always in the start's own run.
    boundaries = np.sort(np.concatenate((ends, present_stop)))
    last = boundaries[np.searchsorted(boundaries, starts, side="right")] - 1
    first_of_episode = np.concatenate(([True], last[1:] != last[:-1]))
    return starts[first_of_episode].astype(np.int64), last[first_of_episode].astype(np.int64)


def _extremes(pick: np.ufunc, gl: FloatArray, first: IntArray, last: IntArray) -> FloatArray:
    """``pick`` (np.minimum or np.maximum) over each episode's points ``first … last``.

    One ``reduceat`` for all episodes: the episodes of one kind and level are disjoint and in
    order, so ``[first_0, last_0 + 1, first_1, …]`` is ascending and every even slot reduces
    exactly one episode (a NaN pad keeps ``last + 1`` a valid index at the grid's end).
    """
    if first.size == 0:
        return np.empty(0)
    bounds = np.empty(2 * first.size, dtype=np.int64)
    bounds[0::2] = first
    bounds[1::2] = last + 1
    out: FloatArray = pick.reduceat(np.append(gl, np.nan), bounds)[0::2]
    return out


def _summary(
    kind: EpisodeKind,
    level: EpisodeLevel,
    means: FloatArray,
    durations: FloatArray,
    present_days: float,
) -> EpisodeSummary:
    if means.size == 0:
        return EpisodeSummary(kind, level, 0.0, 0.0, math.nan, 0)
    return EpisodeSummary(
        kind=kind,
        level=level,
        avg_ep_per_day=means.size / present_days,
        avg_ep_duration=float(np.mean(durations)),
        avg_ep_gl=float(np.mean(means)),
        total_episodes=int(means.size),
    )


def episodes(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    lv1_hypo: float = HYPO_LV1_MG_DL,
    lv2_hypo: float = HYPO_LV2_MG_DL,
    lv1_hyper: float = HYPER_LV1_MG_DL,
    lv2_hyper: float = HYPER_LV2_MG_DL,
    dur_length: float = EPISODE_MINUTES,
    end_length: float = EPISODE_MINUTES,
    dt0: int | None = None,
    inter_gap: float = 45,
) -> EpisodeReport:
    """Hypo-/hyperglycaemic episodes of one patient, as iglu 4.3.0 ``episode_calculation``.

    On iglu's grid (step ``dt0``), split into runs of present points:

    * hypo level 1: glucose < ``lv1_hypo`` (70 mg/dL); level 2: < ``lv2_hypo`` (54);
      hyper level 1: > ``lv1_hyper`` (180); level 2: > ``lv2_hyper`` (250) — strict.
    * An episode starts after ``ceil(dur_length / dt0)`` consecutive grid points beyond the
      threshold (15 min → 3 points at 5 min) and ends before ``ceil(end_length / dt0)``
      consecutive points back (15 min), or where the present run ends. Level 2 is a subset
      of level 1 by construction; "lv1_excl" are level-1 episodes with no level-2 point.
    * Extended hypo: level-1 hypo needing ``≥ 120 / dt0 + 1`` points to start.
    * Summary per (kind, level): ``avg_ep_per_day = episodes / (present grid points · dt0 /
      1440)``, ``avg_ep_duration`` = mean of (points · dt0) minutes, ``avg_ep_gl`` = mean of
      the episodes' mean glucose; no episode gives (0, 0, NaN, 0).

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL.
    lv1_hypo, lv2_hypo, lv1_hyper, lv2_hyper
        Thresholds, mg/dL (defaults 70, 54, 180, 250: Battelino 2023).
    dur_length, end_length
        Minutes beyond the threshold to start, and back within it to end (default 15 each).
    dt0
        Grid step in minutes; ``None`` (default) = iglu's estimate.
    inter_gap
        Longest gap in minutes interpolated across (default 45); longer gaps split episodes.

    Returns
    -------
    EpisodeReport
        Episodes and iglu's seven summary rows; all counts 0 when the series cannot be gridded.

    Notes
    -----
    Gap handling: gaps ≤ ``inter_gap`` are interpolated; a longer gap (NaN on the grid) closes
    any open episode and a new one must qualify afresh after it. iglu-python agrees with R
    here except through its grid step (mode instead of median) and the extended-hypo length
    for a dt0 that does not divide 120 (it truncates 120/dt0); we follow R.

    References
    ----------
    Battelino et al. (2023) "Continuous glucose monitoring and metrics for clinical trials:
    an international consensus statement", Lancet Diabetes Endocrinol 11(1):42-57,
    doi:10.1016/S2213-8587(22)00319-9.
    """
    grid = grid_or_none(times_ms, glucose, dt0, inter_gap)
    if grid is None:
        return EpisodeReport(episodes=(), summary=_empty_summary(), dt0=None)
    return episodes_of_grid(grid, lv1_hypo, lv2_hypo, lv1_hyper, lv2_hyper, dur_length, end_length)


def episodes_of_grid(
    grid: DayByDayGrid,
    lv1_hypo: float = HYPO_LV1_MG_DL,
    lv2_hypo: float = HYPO_LV2_MG_DL,
    lv1_hyper: float = HYPER_LV1_MG_DL,
    lv2_hyper: float = HYPER_LV2_MG_DL,
    dur_length: float = EPISODE_MINUTES,
    end_length: float = EPISODE_MINUTES,
) -> EpisodeReport:
    """The episodes of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day`: one grid then serves every grid
    metric of the patient. Same rules and thresholds (see :func:`episodes`), same result.
    """
    step = grid.dt0
    gl = grid.flat
    times = grid.flat_times_ms
    with np.errstate(invalid="ignore"):
        below = {"lv1": gl < lv1_hypo, "lv2": gl < lv2_hypo}
        above = {"lv1": gl > lv1_hyper, "lv2": gl > lv2_hyper}
    start_points = math.ceil(dur_length / step)
    end_points = math.ceil(end_length / step)
    present_days = int(np.count_nonzero(~np.isnan(gl))) * step / 1440

    found: dict[tuple[EpisodeKind, EpisodeLevel], tuple[IntArray, IntArray]] = {
        ("hypo", "lv1"): _classify(gl, below["lv1"], start_points, end_points),
        ("hypo", "lv2"): _classify(gl, below["lv2"], start_points, end_points),
        ("hypo", "extended"): _classify(gl, below["lv1"], _EXTENDED_MINUTES / step + 1, end_points),
        ("hyper", "lv1"): _classify(gl, above["lv1"], start_points, end_points),
        ("hyper", "lv2"): _classify(gl, above["lv2"], start_points, end_points),
    }
    # Prefix sums give per-episode sums and lv2 membership without a Python loop.
    csum = np.concatenate(([0.0], np.cumsum(np.where(np.isnan(gl), 0.0, gl))))

    def lv2_overlaps(kind: EpisodeKind, first: IntArray, last: IntArray) -> BoolArray:
        lv2_first, lv2_last = found[(kind, "lv2")]
        marks = np.zeros(gl.size + 1, dtype=np.int64)
        np.add.at(marks, lv2_first, 1)
        np.add.at(marks, lv2_last + 1, -1)
        in_lv2 = np.cumsum(marks[:-1]) > 0
        covered = np.concatenate(([0], np.cumsum(in_lv2)))
        return np.asarray(covered[last + 1] - covered[first] > 0, dtype=bool)

    all_episodes: list[Episode] = []
    rows: dict[tuple[EpisodeKind, EpisodeLevel], EpisodeSummary] = {}
    for (kind, level), (first, last) in found.items():
        n_points = last - first + 1
        means = (csum[last + 1] - csum[first]) / np.maximum(n_points, 1)
        durations = (n_points * step).astype(np.float64)
        rows[(kind, level)] = _summary(kind, level, means, durations, present_days)
        exclusive = (
            ~lv2_overlaps(kind, first, last) if level == "lv1" else np.zeros(first.size, dtype=bool)
        )
        if level == "lv1":
            rows[(kind, "lv1_excl")] = _summary(
                kind, "lv1_excl", means[exclusive], durations[exclusive], present_days
            )
        pick = np.minimum if kind == "hypo" else np.maximum
        extremes = _extremes(pick, gl, first, last)
        for start_ms, duration, extreme, mean, alone in zip(
            times[first].tolist(),
            durations.astype(np.int64).tolist(),
            extremes.tolist(),
            means.tolist(),
            exclusive.tolist(),
            strict=True,
        ):
            all_episodes.append(
                Episode(
                    kind=kind,
                    level=level,
                    start_ms=start_ms,
                    end_ms=start_ms + duration * MS_PER_MINUTE,
                    duration_min=duration,
                    extreme_mg_dl=extreme,
                    mean_mg_dl=mean,
                    exclusive=alone,
                )
            )
    return EpisodeReport(
        episodes=tuple(all_episodes), summary=tuple(rows[key] for key in _ROW_ORDER), dt0=step
    )


COUNTED_EPISODES: tuple[tuple[EpisodeKind, EpisodeLevel], ...] = (
    ("hypo", "lv1"),
    ("hypo", "lv2"),
    ("hyper", "lv1"),
    ("hyper", "lv2"),
)
"""The episode counts of :func:`episode_counts_of_grids`, in its columns' order."""


def episode_counts_of_grids(grids: Sequence[DayByDayGrid | None]) -> IntArray:
    """Many patients' default episode counts at once: row ``i`` holds ``grids[i]``'s
    ``total_episodes`` of each :data:`COUNTED_EPISODES` (kind, level), the counts
    :func:`episodes_of_grid` gives with the default thresholds (0 where a patient has no grid,
    as :func:`episodes` reports).

    The grids of one step are laid end to end, each followed by one missing point, and each
    threshold is classified once for all of them: an episode lives inside one run of present
    points and the missing point ends every run at its patient's last point, so every
    patient's episodes are exactly those found on its own grid (same rules, same indices
    shifted by the patient's offset). A cohort then costs a handful of array passes instead of
    five classifications per patient.
    """
    counts: IntArray = np.zeros((len(grids), len(COUNTED_EPISODES)), dtype=np.int64)
    steps = sorted({grid.dt0 for grid in grids if grid is not None})
    for step in steps:
        members = [i for i, grid in enumerate(grids) if grid is not None and grid.dt0 == step]
        flats = [grids[i].flat for i in members]  # type: ignore[union-attr]
        sizes = np.fromiter((flat.size + 1 for flat in flats), np.int64, len(flats))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        gl = np.full(int(sizes.sum()), np.nan)
        for start, flat in zip(starts.tolist(), flats, strict=True):
            gl[start : start + flat.size] = flat
        points = math.ceil(EPISODE_MINUTES / step)
        with np.errstate(invalid="ignore"):
            beyond = {
                ("hypo", "lv1"): gl < HYPO_LV1_MG_DL,
                ("hypo", "lv2"): gl < HYPO_LV2_MG_DL,
                ("hyper", "lv1"): gl > HYPER_LV1_MG_DL,
                ("hyper", "lv2"): gl > HYPER_LV2_MG_DL,
            }
        rows = np.asarray(members, dtype=np.int64)
        for column, key in enumerate(COUNTED_EPISODES):
            first, _ = _classify(gl, beyond[key], points, points)
            owner = np.searchsorted(starts, first, side="right") - 1
            counts[rows, column] = np.bincount(owner, minlength=len(members))
    return counts


def _empty_summary() -> tuple[EpisodeSummary, ...]:
    return tuple(EpisodeSummary(k, lv, 0.0, 0.0, math.nan, 0) for k, lv in _ROW_ORDER)


def episodes_on_shared_grid(
    grid: DayByDayGrid | None, times_ms: npt.ArrayLike, glucose: npt.ArrayLike
) -> EpisodeReport:
    """iglu's default episodes of a patient whose default grid (``day_by_day`` at the
    estimated step; None when there is none) is already built: found on it, or by
    :func:`episodes` (which reports none) when there is no grid."""
    return episodes(times_ms, glucose) if grid is None else episodes_of_grid(grid)
