"""GVP: glycaemic variability percentage."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none

__all__ = ["gvp", "gvp_of_grid"]


def gvp(times_ms: npt.ArrayLike, glucose: npt.ArrayLike) -> dict[str, float]:
    """Glycaemic variability percentage of one patient, as iglu 4.3.0 ``gvp``.

    The excess length of the glucose trace over a flat line, on iglu's interpolation grid
    (step ``dt0`` minutes): with ``ΔG_k`` the differences between consecutive grid values
    where both are present (``m`` of them)::

        GVP = 100 · ( Σ_k sqrt(dt0² + ΔG_k²) / (m · dt0) - 1 )

    Time (minutes) and glucose (mg/dL) enter the length unscaled, as in iglu and the paper.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"GVP": …}`` in percent (≥ 0); NaN when the series cannot be gridded (fewer than two
        distinct instants, sampling sparser than 45 min) or no two adjacent grid points are
        both present.

    Raises
    ------
    ValueError
        ``times_ms`` and ``glucose`` differ in length.

    Notes
    -----
    R iglu 4.3.0, ``R/gvp.r``: ``CGMS2DayByDay`` with its defaults (``dt0`` from the data,
    ``inter_gap = 45``), then the lengths of the segments between consecutive grid points.
    Gap handling: segments with a NaN end (gaps over 45 min, before the first / after the
    last reading) are left out of both the trace length and the flat length, so a gap neither
    adds nor dilutes variability. Where R cannot build the grid (one reading) it stops with an
    error; here that is NaN.

    References
    ----------
    Peyser et al. (2018) "Glycemic variability percentage: a novel method for assessing
    glycemic variability from continuous glucose monitor data", Diabetes Technol Ther
    20(1):6-16, doi:10.1089/dia.2017.0187.
    """
    grid = grid_or_none(times_ms, glucose)
    return {"GVP": math.nan} if grid is None else gvp_of_grid(grid)


def gvp_of_grid(grid: DayByDayGrid) -> dict[str, float]:
    """GVP (percent) of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day` with its defaults: one grid then
    serves every grid metric of the patient. Same formula (see :func:`gvp`), same value.
    """
    diffs = np.diff(grid.flat)
    diffs = diffs[~np.isnan(diffs)]
    if diffs.size == 0:
        return {"GVP": math.nan}
    dt0 = float(grid.dt0)
    trace = float(np.sum(np.sqrt(dt0**2 + diffs**2)))
    return {"GVP": (trace / (diffs.size * dt0) - 1) * 100}
