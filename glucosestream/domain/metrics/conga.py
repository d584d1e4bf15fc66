"""CONGA-n: continuous overall net glycaemic action."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["conga", "conga_of_grid"]


def conga(
    times_ms: npt.ArrayLike, glucose: npt.ArrayLike, n: int = 24, inter_gap: float = 45
) -> float:
    """CONGA-n of one patient, as iglu 4.3.0 ``conga``.

    ``CONGA_n = SD(G(t) - G(t - n h))``: the sample standard deviation (``ddof = 1``) of the
    differences between grid glucose values exactly ``n`` hours apart, over every pair where
    both are present.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL.
    n
        Lag in hours (default 24, iglu's default).
    inter_gap
        Longest gap in minutes interpolated across (default 45).

    Returns
    -------
    float
        CONGA-n in mg/dL; NaN when fewer than two lagged pairs exist or the series cannot be
        gridded.

    Notes
    -----
    Gap handling: the series is put on iglu's grid (step ``dt0``, linear interpolation across
    gaps ≤ ``inter_gap``); pairs with a NaN end (long gap, outside the recording) are skipped.
    The lag is ``round(60 / dt0) · n`` grid points, as iglu.

    References
    ----------
    McDonnell et al. (2005) "A novel approach to continuous glucose analysis utilizing
    glycemic variation", Diabetes Technol Ther 7:253-263, doi:10.1089/dia.2005.7.253.
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of hours, got {n}")
    grid = grid_or_none(times_ms, glucose, inter_gap=inter_gap)
    return math.nan if grid is None else conga_of_grid(grid, n)


def conga_of_grid(grid: DayByDayGrid, n: int = 24) -> float:
    """CONGA-n (mg/dL) of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day` (step estimated as :func:`conga`
    does): one grid then serves every grid metric of the patient. Same formula, same value.
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of hours, got {n}")
    lag = round(60 / grid.dt0) * n
    flat = grid.flat
    if lag >= flat.size:
        return math.nan
    diffs = flat[lag:] - flat[:-lag]
    diffs = diffs[~np.isnan(diffs)]
    if diffs.size < 2:
        return math.nan
    return float(np.std(diffs, ddof=1))
