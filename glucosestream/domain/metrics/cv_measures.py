"""Mean and SD of the daily coefficients of variation (iglu's ``cv_measures``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import r_mean_along, r_sd_along
from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["cv_measures", "cv_measures_of_grid"]

_KEYS = ("CVmean", "CVsd")


def cv_measures(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    dt0: int | None = None,
    inter_gap: float = 45,
) -> dict[str, float]:
    """CVmean and CVsd of one patient, as R iglu 4.3.0 ``cv_measures`` (R/cv_measures.R).

    On iglu's grid, one row per local calendar day::

        CV_d   = 100 · SD(row d) / mean(row d)     (SD with n - 1, over the day's present points)
        CVmean = mean of CV_d over the days that have one
        CVsd   = SD (n - 1) of CV_d over the days that have one

    Output ``{"CVmean": …, "CVsd": …}``, both in percent.

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
        ``{"CVmean": float, "CVsd": float}``. A day with fewer than two present grid points has
        no CV. CVmean is NaN when no day has one; CVsd is NaN unless two days do (one day of
        data: R gives NA). Both NaN when the series cannot be gridded.

    Notes
    -----
    Gap handling: iglu's grid (linear interpolation across gaps ≤ ``inter_gap``); each day's
    CV uses its present (non-NaN) grid points only, as R's ``na.rm = TRUE``. Days are grid
    rows, i.e. 00:00 + dt0 … 24:00 local.

    References
    ----------
    R iglu 4.3.0, R/cv_measures.R, which cites Umpierrez & Kovatchev (2018) "Glycemic
    variability: how to measure and its clinical implication for type 2 diabetes", Am J Med
    Sci 356:518-527, doi:10.1016/j.amjms.2018.09.010. Within-day CV as in Rodbard (2009) "New
    and improved methods to characterize glycemic variability using continuous glucose
    monitoring", Diabetes Technol Ther 11:551-565, doi:10.1089/dia.2009.0015.
    """
    grid = grid_or_none(times_ms, glucose, dt0, inter_gap)
    return dict.fromkeys(_KEYS, math.nan) if grid is None else cv_measures_of_grid(grid)


def cv_measures_of_grid(grid: DayByDayGrid) -> dict[str, float]:
    """:func:`cv_measures` of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day`, so one grid serves every grid
    metric. Same formula, same value.
    """
    rows = grid.values
    with np.errstate(invalid="ignore", divide="ignore"):
        daily_cv = 100 * r_sd_along(rows, axis=1) / r_mean_along(rows, axis=1)
    return {"CVmean": float(r_mean_along(daily_cv)), "CVsd": float(r_sd_along(daily_cv))}
