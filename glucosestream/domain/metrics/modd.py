"""MODD: mean of daily differences."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["modd", "modd_of_grid"]


def modd(
    times_ms: npt.ArrayLike, glucose: npt.ArrayLike, lag: int = 1, inter_gap: float = 45
) -> float:
    """MODD of one patient, as iglu 4.3.0 ``modd``.

    ``MODD = mean |G(d, t) - G(d - lag, t)|``: the mean absolute difference between grid
    glucose values at the same local time of day ``lag`` days apart, over every pair where both
    are present.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`); "same time of day" is local.
    glucose
        Glucose, mg/dL.
    lag
        Lag in days (default 1).
    inter_gap
        Longest gap in minutes interpolated across (default 45).

    Returns
    -------
    float
        MODD in mg/dL; NaN when no pair of days overlaps or the series cannot be gridded.

    Notes
    -----
    Gap handling: iglu's grid (linear interpolation across gaps ≤ ``inter_gap``); pairs with a
    NaN end are skipped.

    References
    ----------
    Molnar, Taylor & Langworthy (1972) "Plasma immunoreactive insulin patterns in insulin-
    treated diabetics", Diabetologia 8:342-348, doi:10.1007/BF01218495. iglu cites Service &
    Nelson (1980), Diabetes Care 3:58-62, doi:10.2337/diacare.3.1.58.
    """
    if lag < 1:
        raise ValueError(f"lag must be a positive number of days, got {lag}")
    grid = grid_or_none(times_ms, glucose, inter_gap=inter_gap)
    return math.nan if grid is None else modd_of_grid(grid, lag)


def modd_of_grid(grid: DayByDayGrid, lag: int = 1) -> float:
    """MODD (mg/dL) of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day` (step estimated as :func:`modd`
    does): one grid then serves every grid metric of the patient. Same formula, same value.
    """
    if lag < 1:
        raise ValueError(f"lag must be a positive number of days, got {lag}")
    rows = grid.values
    if lag >= rows.shape[0]:
        return math.nan
    diffs = np.abs(rows[lag:] - rows[:-lag])
    diffs = diffs[~np.isnan(diffs)]
    if diffs.size == 0:
        return math.nan
    return float(np.mean(diffs))
