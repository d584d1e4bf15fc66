"""Rodbard's standard-deviation subtypes (iglu's ``sd_measures``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import FloatArray, r_mean_along, r_sd_along
from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["sd_measures", "sd_measures_of_grid"]

_KEYS = ("SDw", "SDhhmm", "SDwsh", "SDdm", "SDb", "SDbdm")


def sd_measures(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    dt0: int | None = None,
    inter_gap: float = 45,
) -> dict[str, float]:
    """The six SD subtypes of one patient, as R iglu 4.3.0 ``sd_measures`` (R/sd_measures.R).

    On iglu's grid ``G[d, t]`` (row d = local day, column t = time of day), every SD with
    n - 1 over present (non-NaN) values only, every mean over present values only::

        SDw    = mean over days d of SD_t(G[d, t])              within days
        SDhhmm = SD over times t of mean_d(G[d, t])             between times of day
        SDwsh  = mean over 1-hour windows of SD(window)         within series, 1-hour windows
        SDdm   = SD over days d of mean_t(G[d, t])              between daily means
        SDb    = mean over times t of SD_d(G[d, t])             between days, same time of day
        SDbdm  = mean over times t of SD_d(G[d, t] - mean_t(G[d, t]))
                                                                as SDb, daily means removed

    A window of SDwsh is ``round(60 / dt0)`` consecutive grid points (12 at 5 min) in time
    order, at every start position where it fits (``caTools::runsd(endrule = "trim")``).
    Output keys ``SDw, SDhhmm, SDwsh, SDdm, SDb, SDbdm``, all mg/dL.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`); days are local days.
    glucose
        Glucose, mg/dL (NaN = missing).
    dt0
        Grid step in minutes; ``None`` (default) = iglu's estimate.
    inter_gap
        Longest gap in minutes interpolated across (default 45).

    Returns
    -------
    dict
        The six values. An SD of fewer than two values and a mean of none are NaN and are left
        out of the mean or SD taken over them, as R's ``na.rm = TRUE``; so SDdm, SDb and SDbdm
        are NaN with one day of data (R: NA/NaN). All NaN when the series cannot be gridded.
        SDwsh is NaN when the window is shorter than 3 points (dt0 > 24 min), where
        ``caTools::runsd`` stops with an error.

    Notes
    -----
    SDwsh runs over R's flattened grid, which has ``ceiling(span_days + 1)`` rows
    (:attr:`~glucosestream.domain.metrics.grid.DayByDayGrid.iglu_flat`): when that adds an
    all-NaN row, windows straddling the last midnight still count their present points (the
    others are all NaN and dropped). Matching R needs that padding. A window with fewer than
    two present points has no SD and is dropped. iglu's multi-subject loop reuses the first
    subject's dt0 for later subjects (and the last subject's for every SDwsh window length);
    per patient here, each patient's own dt0 is used, which is R's value for a one-subject
    call. Gap handling: iglu's grid (linear interpolation across gaps ≤ ``inter_gap``).

    References
    ----------
    Rodbard (2009) "New and improved methods to characterize glycemic variability using
    continuous glucose monitoring", Diabetes Technol Ther 11:551-565,
    doi:10.1089/dia.2009.0015; R iglu 4.3.0, R/sd_measures.R.
    """
    grid = grid_or_none(times_ms, glucose, dt0, inter_gap)
    return dict.fromkeys(_KEYS, math.nan) if grid is None else sd_measures_of_grid(grid)


def sd_measures_of_grid(grid: DayByDayGrid) -> dict[str, float]:
    """:func:`sd_measures` of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day`, so one grid serves every grid
    metric. Same formulas, same values.
    """
    rows = grid.values
    daily_mean = r_mean_along(rows, axis=1)
    return {
        "SDw": float(r_mean_along(r_sd_along(rows, axis=1))),
        "SDhhmm": float(r_sd_along(r_mean_along(rows, axis=0))),
        "SDwsh": _within_series(grid.iglu_flat, round(60 / grid.dt0)),
        "SDdm": float(r_sd_along(daily_mean)),
        "SDb": float(r_mean_along(r_sd_along(rows, axis=0))),
        "SDbdm": float(r_mean_along(r_sd_along(rows - daily_mean[:, None], axis=0))),
    }


def _within_series(flat: FloatArray, width: int) -> float:
    """Mean over every full window of ``width`` consecutive points of the window's SD.

    Sums over shifted slices (one per position in the window) keep memory at a few copies of
    the series whatever the width, and the second pass about the window mean keeps the
    precision of R's two-pass SD.
    """
    if width < 3:
        return math.nan
    width = min(width, flat.size)
    n_windows = flat.size - width + 1
    present = ~np.isnan(flat)
    values = np.where(present, flat, 0.0)
    count = np.zeros(n_windows)
    total = np.zeros(n_windows)
    for offset in range(width):
        count += present[offset : offset + n_windows]
        total += values[offset : offset + n_windows]
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = total / count
    squares = np.zeros(n_windows)
    for offset in range(width):
        deviation = flat[offset : offset + n_windows] - centre
        squares += np.where(present[offset : offset + n_windows], deviation**2, 0.0)
    usable = count > 1
    if not usable.any():
        return math.nan
    return float(np.mean(np.sqrt(squares[usable] / (count[usable] - 1))))
