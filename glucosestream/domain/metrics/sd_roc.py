"""Standard deviation of the glucose rate of change (iglu's ``sd_roc``)."""

from __future__ import annotations

import math

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import r_sd_along
from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["sd_roc", "sd_roc_of_grid"]


def sd_roc(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    timelag: float = 15,
    dt0: int | None = None,
    inter_gap: float = 45,
) -> dict[str, float]:
    """SD of the rate of change of one patient, as R iglu 4.3.0 ``sd_roc`` (R/sd_roc.R, R/roc.R).

    On iglu's grid in time order ``G``, with step ``dt0`` minutes::

        ROC_i  = (G[i] - G[i - timelag/dt0]) / timelag     mg/dL/min
        sd_roc = SD (n - 1) of ROC_i over the i where both ends are present

    Output ``{"sd_roc": …}`` in mg/dL/min.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL (NaN = missing).
    timelag
        Minutes over which the change is taken (default 15).
    dt0
        Grid step in minutes; ``None`` (default) = iglu's estimate. In iglu 4.3.0 ``roc``
        builds the ordinary ``CGMS2DayByDay`` grid (dt0 estimated, inter_gap 45), so the
        default grid is shared; earlier iglu versions rounded ROC to 0.01, 4.3.0 does not.
    inter_gap
        Longest gap in minutes interpolated across (default 45).

    Returns
    -------
    dict
        ``{"sd_roc": float}``; NaN when fewer than two rates exist or the series cannot be
        gridded.

    Notes
    -----
    As R: a ``timelag`` below ``dt0`` is raised to ``dt0``; the lag in grid points is
    ``timelag / dt0`` truncated to an integer (R's ``diff`` and ``rep`` truncate a fractional
    lag) while the division stays by ``timelag`` (e.g. dt0 10: one step, divided by 15).
    Gap handling: iglu's grid (linear interpolation across gaps ≤ ``inter_gap``); a rate with a
    NaN end (long gap, outside the recording) is dropped, as R's ``na.rm = TRUE``.

    References
    ----------
    Clarke & Kovatchev (2009) "Statistical tools to analyze continuous glucose monitor data",
    Diabetes Technol Ther 11(S1):S45-S54, doi:10.1089/dia.2008.0138; R iglu 4.3.0.
    """
    grid = grid_or_none(times_ms, glucose, dt0, inter_gap)
    return {"sd_roc": math.nan} if grid is None else sd_roc_of_grid(grid, timelag)


def sd_roc_of_grid(grid: DayByDayGrid, timelag: float = 15) -> dict[str, float]:
    """:func:`sd_roc` of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day` (the default grid for iglu's
    defaults), so one grid serves every grid metric. Same formula, same value.
    """
    timelag = max(timelag, grid.dt0)
    lag = int(timelag // grid.dt0)
    flat = grid.flat
    if lag >= flat.size:
        return {"sd_roc": math.nan}
    rates = (flat[lag:] - flat[:-lag]) / timelag
    return {"sd_roc": float(r_sd_along(rates))}
