"""Regression guard: the metrics written before the R fixture still give R iglu 4.3.0's values.

conga, modd, mag, mage, active_percent and episodes, at iglu's default arguments, on every
subject of iglu's example data, within GRID_TOLERANCE (relative).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from glucosestream.domain.metrics import active_percent, conga, episodes, mag, mage, modd
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid

Metric = Callable[[npt.NDArray[np.int64], npt.NDArray[np.float64]], float]

SCALARS: dict[str, tuple[str, Metric]] = {
    "conga": ("CONGA", lambda t, g: conga(t, g, n=24)),
    "modd": ("MODD", modd),
    "mag": ("MAG", mag),
    "mage": ("MAGE", mage),
    "active_percent": ("active_percent", active_percent),
}


@pytest.mark.parametrize(
    ("function", "file", "subject"),
    [(function, file, subject) for function in SCALARS for file, subject in cases(function)],
)
def test_scalar_metric_matches_r(function: str, file: str, subject: str) -> None:
    column, metric = SCALARS[function]
    times, glucose = subjects(file)[subject]
    theirs = expected(function, file)[subject][column]
    assert_matches_r_grid({column: metric(times, glucose)}, {column: theirs})


@pytest.mark.parametrize(("file", "subject"), cases("episode_calculation"))
def test_episode_summary_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    ours: dict[str, float] = {}
    for row in episodes(times, glucose).summary:
        prefix = f"{row.kind}_{row.level}"
        ours[f"{prefix}.avg_ep_per_day"] = row.avg_ep_per_day
        ours[f"{prefix}.avg_ep_duration"] = row.avg_ep_duration
        ours[f"{prefix}.avg_ep_gl"] = row.avg_ep_gl
        ours[f"{prefix}.total_episodes"] = float(row.total_episodes)
    assert_matches_r_grid(ours, expected("episode_calculation", file)[subject])
