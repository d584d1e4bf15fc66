"""pgs: R iglu 4.3.0's values, a hand-computed case, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import day_by_day, pgs, pgs_of_grid
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid, same_outputs
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("pgs"))
def test_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert_matches_r_grid(pgs(times, glucose), expected("pgs", file)[subject])


def _one_day_with_a_dip(dip_readings: int) -> tuple[np.ndarray, np.ndarray]:
    """Five-minute readings 00:05 … 24:00 (288, the whole of grid row 0), 100 mg/dL except
    ``dip_readings`` consecutive readings of 60 from 03:00."""
    minutes = 5 * np.arange(1, 289)
    g = np.full(minutes.size, 100.0)
    g[35 : 35 + dip_readings] = 60.0
    return at_minutes(minutes), g


@pytest.mark.parametrize("dip", [3, 4, 6])
def test_by_hand(dip: int) -> None:
    # A dip to 60 of `dip` readings; 288 present grid points = 1 day.
    # GVP: 287 steps of 5 min, two of them +-40: 100 (285*5 + 2 sqrt(5^2 + 40^2)) / (287*5) - 100.
    # MG = ((288 - dip) 100 + dip 60) / 288; PTIR = 100 (288 - dip) / 288 (60 is out of range).
    # Episodes with PGS's rules (start after 20 min = 4 points below 70, end after 30 min
    # back): a 4- or 6-reading dip is one level-1 hypo and no level 2 -> N54 = 0, N70 = 7 per
    # week; a 3-reading (15-min) dip, an episode at episode_calculation's own 15-min default,
    # is none here -> N70 = 0.
    gvp = 100 * (285 * 5 + 2 * math.sqrt(25 + 1600)) / (287 * 5) - 100
    mg = ((288 - dip) * 100 + dip * 60) / 288
    ptir = 100 * (288 - dip) / 288
    n54, n70 = 0.0, (7.0 if dip >= 4 else 0.0)
    expected_value = (
        1 + 9 / (1 + math.exp(-0.049 * (gvp - 65.47)))
        + 1 + 9 / (1 + math.exp(0.0833 * (ptir - 55.04)))
        + 1 + 9 * (1 / (1 + math.exp(0.1139 * (mg - 72.08)))
                   + 1 / (1 + math.exp(-0.09195 * (mg - 157.57))))
        + 0.5 + 4.5 * (1 - math.exp(-0.81093 * n54))
        + 0.5714 * n70 + 0.625
    )  # fmt: skip
    assert pgs(*_one_day_with_a_dip(dip))["PGS"] == pytest.approx(expected_value, rel=1e-12)


def test_level_2_episodes_count_in_n54_by_hand() -> None:
    # A 30-min dip to 50 is one level-1 and one level-2 episode: N54 = 7, N70 (level 1
    # without level 2) = 0. Only a(N54) and b(N70) differ from the 60-mg/dL dip's inputs
    # except MG (6 readings of 50 instead of 60).
    times, g = _one_day_with_a_dip(6)
    g[g == 60] = 50.0
    gvp = 100 * (285 * 5 + 2 * math.sqrt(25 + 2500)) / (287 * 5) - 100
    mg = (282 * 100 + 6 * 50) / 288
    ptir = 100 * 282 / 288
    expected_value = (
        1 + 9 / (1 + math.exp(-0.049 * (gvp - 65.47)))
        + 1 + 9 / (1 + math.exp(0.0833 * (ptir - 55.04)))
        + 1 + 9 * (1 / (1 + math.exp(0.1139 * (mg - 72.08)))
                   + 1 / (1 + math.exp(-0.09195 * (mg - 157.57))))
        + 0.5 + 4.5 * (1 - math.exp(-0.81093 * 7))
        + 0.625
    )  # fmt: skip
    assert pgs(times, g)["PGS"] == pytest.approx(expected_value, rel=1e-12)


@pytest.mark.parametrize(
    ("minutes", "glucose"), [([], []), ([0], [120.0]), ([0, 5], [np.nan, 120.0])]
)
def test_nan_for_too_little_data(minutes: list[float], glucose: list[float]) -> None:
    assert math.isnan(pgs(at_minutes(minutes), np.array(glucose))["PGS"])


@pytest.mark.parametrize(("file", "subject"), cases("pgs"))
def test_of_grid_equals_the_wrapper(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert same_outputs(pgs_of_grid(day_by_day(times, glucose), glucose), pgs(times, glucose))
