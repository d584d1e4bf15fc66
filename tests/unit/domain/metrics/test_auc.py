"""auc: R iglu 4.3.0's values, a hand-computed case of its day labelling, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import auc, auc_of_grid, day_by_day
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid, same_outputs
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("auc"))
def test_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert_matches_r_grid(auc(times, glucose), expected("auc", file)[subject])


def test_r_pairs_points_a_grid_row_count_apart_by_hand() -> None:
    # Readings 00:05 … 00:30 every 5 min: 100, 100, 100, 100, 100, 160. The last reading's
    # time of day is later than the first's, so R's grid has ceiling(25 min/1 day + 1) = 2
    # rows, and R's day labels (dates recycled point by point) pair each grid point with the
    # one 2 points later: (100,100), (100,100), (100,100), (100,160) -> 100, 100, 100, 130;
    # mean 107.5. (Neighbour trapezoids would give (4*100 + 130)/5 = 106.)
    minutes = np.arange(5, 31, 5)
    g = np.array([100.0, 100, 100, 100, 100, 160])
    assert day_by_day(at_minutes(minutes), g).iglu_n_days == 2
    assert auc(at_minutes(minutes), g)["hourly_auc"] == pytest.approx(107.5, rel=1e-12)


def test_pairs_span_the_grid_rows_without_an_extra_row_by_hand() -> None:
    # Half-hourly readings 00:30 … 24:00, 120 except 180 at 12:00. The 24:00 reading falls on
    # day 1, so the grid has 2 rows (day 1 all NaN), as R's ceiling(23.5 h / 1 day + 1) = 2:
    # no extra R row, pairs 2 points (1 hour) apart. Row 0 holds the 48 readings; pairs
    # (i, i + 2) with both present: i = 0 … 45, 46 pairs. 12:00 is column 23, in pairs i = 21
    # and i = 23, each (120 + 180)/2 = 150; the other 44 are 120.
    minutes = np.arange(30, 1441, 30)
    g = np.where(minutes == 720, 180.0, 120.0)
    grid = day_by_day(at_minutes(minutes), g)
    assert (grid.values.shape[0], grid.iglu_n_days, grid.dt0) == (2, 2, 30)
    expected_value = (44 * 120 + 2 * 150) / 46
    assert auc(at_minutes(minutes), g)["hourly_auc"] == pytest.approx(expected_value, rel=1e-12)


@pytest.mark.parametrize(
    ("minutes", "glucose"),
    [([], []), ([0], [120.0]), ([0, 5], [np.nan, np.nan]), ([0, 5, 10], [120.0, np.nan, np.nan])],
)
def test_nan_for_too_little_data(minutes: list[float], glucose: list[float]) -> None:
    assert math.isnan(auc(at_minutes(minutes), np.array(glucose))["hourly_auc"])


@pytest.mark.parametrize(("file", "subject"), cases("auc"))
def test_of_grid_equals_the_wrapper(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert same_outputs(auc_of_grid(day_by_day(times, glucose)), auc(times, glucose))
