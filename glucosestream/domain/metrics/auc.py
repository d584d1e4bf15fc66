"""Hourly average area under the glucose curve (iglu's ``auc``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["auc", "auc_of_grid"]


def auc(times_ms: npt.ArrayLike, glucose: npt.ArrayLike) -> dict[str, float]:
    """Hourly average AUC of one patient, as R iglu 4.3.0 ``auc`` (R/AUC.R), default arguments.

    iglu's intent is the trapezoidal rule on the grid, ``(dt0/60) · (G_i + G_{i+1}) / 2``
    mg/dL·h per trapezoid, summed per day and divided by the hours covered, then averaged over
    days. What R 4.3.0 computes is different, and this function returns exactly that::

        n           = rows of R's grid (DayByDayGrid.iglu_n_days = ceiling(span_days + 1))
        pair_i      = (G[i] + G[i + n]) / 2          for the grid in time order, i = 0 … N-n-1
        hourly_auc  = mean of pair_i over the pairs where both ends are present

    Output ``{"hourly_auc": …}`` in mg/dL (mg/dL·h of area per hour of data).

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL (NaN = missing).

    Returns
    -------
    dict
        ``{"hourly_auc": float}``; NaN when no pair is present or the series cannot be gridded
        (R: NA, or an error for fewer than two readings).

    Notes
    -----
    R's day labels (matched on purpose): the grid is flattened in time order but labelled
    ``rep(actual_dates, 1440/dt0)``, which cycles through the dates point by point instead of
    repeating each date for a day's points. Grouping by that label puts every n-th grid point
    in one "day", so each "trapezoid" joins two points ``n · dt0`` minutes apart (14 days of
    5-min data: 70 minutes apart), not neighbours. Then ``dplyr::reframe`` drops the grouping,
    so the per-day summary is one summary over all pairs and the mean over "days" is that one
    value: the mean of all pair averages, the (dt0/60) factors cancelling. ``n`` is R's row
    count, which is one more than the calendar days spanned when the last reading's time of
    day is later than the first's (e.g. one day of data pairs points 10 minutes apart). With
    n = 1 this would be the plain trapezoid mean. Gap handling: iglu's grid (dt0 estimated,
    linear interpolation across gaps ≤ 45 min); pairs with a NaN end are dropped.

    References
    ----------
    R iglu 4.3.0, R/AUC.R, which cites Danne et al. (2017) "International consensus on use of
    continuous glucose monitoring", Diabetes Care 40:1631-1640, doi:10.2337/dc17-1600.
    """
    grid = grid_or_none(times_ms, glucose)
    return {"hourly_auc": math.nan} if grid is None else auc_of_grid(grid)


def auc_of_grid(grid: DayByDayGrid) -> dict[str, float]:
    """:func:`auc` of a patient's default grid (``day_by_day(times_ms, glucose)``, dt0
    estimated, inter_gap 45), so one grid serves every grid metric. Same formula, same value.
    """
    n = grid.iglu_n_days
    flat = grid.iglu_flat
    pairs = (flat[:-n] + flat[n:]) / 2
    pairs = pairs[~np.isnan(pairs)]
    if pairs.size == 0:
        return {"hourly_auc": math.nan}
    return {"hourly_auc": float(np.mean(pairs))}
