"""Personal Glycemic State (iglu's ``pgs``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean, r_percent
from glucosestream.domain.metrics.episodes import episodes_of_grid
from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none
from glucosestream.domain.metrics.gvp import gvp_of_grid

__all__ = ["pgs", "pgs_of_grid"]

# Hirsch et al.'s episode rules, not the consensus ones episode_calculation defaults to.
PGS_DUR_LENGTH = 20
PGS_END_LENGTH = 30


def pgs(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    dur_length: float = PGS_DUR_LENGTH,
    end_length: float = PGS_END_LENGTH,
) -> dict[str, float]:
    """Personal Glycemic State of one patient, as R iglu 4.3.0 ``pgs`` (R/pgs.R).

    ``PGS = f(GVP) + h(PTIR) + g(MG) + a(N54) + b(N70)``, about 4 (best) to 40 (worst)::

        f(GVP)  = 1 + 9 / (1 + exp(-0.049 (GVP - 65.47)))
        h(PTIR) = 1 + 9 / (1 + exp(0.0833 (PTIR - 55.04)))
        g(MG)   = 1 + 9 (1 / (1 + exp(0.1139 (MG - 72.08))) + 1 / (1 + exp(-0.09195 (MG - 157.57))))
        a(N54)  = 0.5 + 4.5 (1 - exp(-0.81093 N54))
        b(N70)  = 0.5714 N70 + 0.625 if N70 ≤ 7.65, else 5

    * GVP: glucose variability percentage (%) on iglu's default grid, ``100 · (Σ sqrt(dt0² +
      ΔG²) / (dt0 · #ΔG) - 1)`` over consecutive grid points both present.
    * MG: mean of the readings (mg/dL); PTIR: % of readings with 70 ≤ G ≤ 180 (inclusive).
      Both over the raw readings, NaN dropped, duplicates kept (R's ``mean_glu`` and
      ``in_range_percent`` see the data as given).
    * N54: level-2 hypoglycaemia episodes (< 54 mg/dL) per week; N70: level-1 hypoglycaemia
      episodes (< 70) with no level-2 point (iglu's ``lv1_excl``) per week. Episodes from
      ``episode_calculation`` with ``dur_length`` 20 and ``end_length`` 30 minutes on the default
      grid; per week = 7 × ``avg_ep_per_day`` (per day of present grid time).

    Output ``{"PGS": …}``, dimensionless.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL (NaN = missing).
    dur_length, end_length
        Minutes below a threshold to start an episode and back above it to end one (defaults
        20 and 30, Hirsch et al.'s; ``episode_calculation``'s own defaults are 15 and 15).

    Returns
    -------
    dict
        ``{"PGS": float}``; NaN when the series cannot be gridded (R stops with an error) or
        GVP is undefined (no two consecutive present grid points).

    Notes
    -----
    R's code differs from its own documentation in two places, matched here: the N54 rate is
    0.81093 (the help page says 0.91093), and N70 counts level-1 episodes without a level-2
    point while N54 counts all level-2 episodes. GVP is
    :func:`~glucosestream.domain.metrics.gvp.gvp_of_grid` on the same grid, as R/gvp.r.

    References
    ----------
    Hirsch et al. (2017) "A simple composite metric for the assessment of glycemic status from
    continuous glucose monitoring data: implications for clinical practice and the artificial
    pancreas", Diabetes Technol Ther 19(S3):S38-S48, doi:10.1089/dia.2017.0080; GVP: Peyser et
    al. (2018), Diabetes Technol Ther 20:6-16, doi:10.1089/dia.2017.0187; R iglu 4.3.0.
    """
    grid = grid_or_none(times_ms, glucose)
    return {"PGS": math.nan} if grid is None else pgs_of_grid(grid, glucose, dur_length, end_length)


def pgs_of_grid(
    grid: DayByDayGrid,
    glucose: npt.ArrayLike,
    dur_length: float = PGS_DUR_LENGTH,
    end_length: float = PGS_END_LENGTH,
) -> dict[str, float]:
    """:func:`pgs` of a patient's default grid (``day_by_day(times_ms, glucose)``, dt0
    estimated, inter_gap 45), so one grid serves every grid metric. ``glucose`` is the same
    patient's raw readings (mean and time in range are taken over readings, not the grid).
    """
    readings = glucose_values(glucose)
    if readings.size == 0:
        return {"PGS": math.nan}
    mean_glucose = r_mean(readings)
    in_range = r_percent((readings >= 70) & (readings <= 180))

    report = episodes_of_grid(grid, dur_length=dur_length, end_length=end_length)
    per_week = {(row.kind, row.level): 7 * row.avg_ep_per_day for row in report.summary}
    n54 = per_week[("hypo", "lv2")]
    n70 = per_week[("hypo", "lv1_excl")]

    f_gvp = 1 + 9 / (1 + _exp(-0.049 * (gvp_of_grid(grid)["GVP"] - 65.47)))
    f_ptir = 1 + 9 / (1 + _exp(0.0833 * (in_range - 55.04)))
    f_mg = 1 + 9 * (
        1 / (1 + _exp(0.1139 * (mean_glucose - 72.08)))
        + 1 / (1 + _exp(-0.09195 * (mean_glucose - 157.57)))
    )
    f_h54 = 0.5 + 4.5 * (1 - _exp(-0.81093 * n54))
    f_h70 = 0.5714 * n70 + 0.625 if n70 <= 7.65 else 5.0
    return {"PGS": f_gvp + f_ptir + f_mg + f_h54 + f_h70}


def _exp(x: float) -> float:
    """exp that overflows to inf as R's does (math.exp raises), so a logistic term saturates."""
    with np.errstate(over="ignore"):
        return float(np.exp(x))
