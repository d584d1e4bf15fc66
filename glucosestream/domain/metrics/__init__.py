"""CGM metrics of the R package iglu 4.3.0 (DESIGN.md §4).

Grid metrics are computed on iglu's interpolated day-by-day grid; the others (named after
their iglu function, returning iglu's output columns) on the readings themselves. One metric
per module, each a pure numpy function of one patient's series: ``times_ms`` as the
patient's LOCAL wall-clock time in naive epoch milliseconds (``measured_at +
utc_offset_minutes * 60000``) and ``glucose`` in mg/dL. The reference is the R package iglu
4.3.0; :func:`~glucosestream.domain.metrics.grid.day_by_day` is its ``CGMS2DayByDay``.
"""

from glucosestream.domain.metrics.above_percent import above_percent
from glucosestream.domain.metrics.active_percent import active_percent, active_percent_outputs
from glucosestream.domain.metrics.adrr import adrr
from glucosestream.domain.metrics.auc import auc, auc_of_grid
from glucosestream.domain.metrics.below_percent import below_percent
from glucosestream.domain.metrics.cogi import cogi
from glucosestream.domain.metrics.conga import conga, conga_of_grid
from glucosestream.domain.metrics.cv_glu import cv_glu
from glucosestream.domain.metrics.cv_measures import cv_measures, cv_measures_of_grid
from glucosestream.domain.metrics.ea1c import ea1c
from glucosestream.domain.metrics.episodes import (
    Episode,
    EpisodeKind,
    EpisodeLevel,
    EpisodeReport,
    EpisodeSummary,
    episodes,
    episodes_of_grid,
)
from glucosestream.domain.metrics.gmi import gmi
from glucosestream.domain.metrics.grade import grade
from glucosestream.domain.metrics.grade_eugly import grade_eugly
from glucosestream.domain.metrics.grade_hyper import grade_hyper
from glucosestream.domain.metrics.grade_hypo import grade_hypo
from glucosestream.domain.metrics.gri import gri
from glucosestream.domain.metrics.grid import DayByDayGrid, GridUndefined, clean_series, day_by_day
from glucosestream.domain.metrics.gvp import gvp, gvp_of_grid
from glucosestream.domain.metrics.hbgi import hbgi
from glucosestream.domain.metrics.hyper_index import hyper_index
from glucosestream.domain.metrics.hypo_index import hypo_index
from glucosestream.domain.metrics.igc import igc
from glucosestream.domain.metrics.in_range_percent import in_range_percent
from glucosestream.domain.metrics.iqr_glu import iqr_glu
from glucosestream.domain.metrics.j_index import j_index
from glucosestream.domain.metrics.lbgi import lbgi
from glucosestream.domain.metrics.m_value import m_value
from glucosestream.domain.metrics.mad_glu import mad_glu
from glucosestream.domain.metrics.mag import mag, mag_of_grid
from glucosestream.domain.metrics.mage import MAGE_DT0, MageDirection, mage, mage_of_grid
from glucosestream.domain.metrics.mean_glu import mean_glu
from glucosestream.domain.metrics.median_glu import median_glu
from glucosestream.domain.metrics.modd import modd, modd_of_grid
from glucosestream.domain.metrics.pgs import pgs, pgs_of_grid
from glucosestream.domain.metrics.quantile_glu import quantile_glu
from glucosestream.domain.metrics.range_glu import range_glu
from glucosestream.domain.metrics.sd_glu import sd_glu
from glucosestream.domain.metrics.sd_measures import sd_measures, sd_measures_of_grid
from glucosestream.domain.metrics.sd_roc import sd_roc, sd_roc_of_grid
from glucosestream.domain.metrics.summary_glu import summary_glu

__all__ = [
    "MAGE_DT0",
    "DayByDayGrid",
    "Episode",
    "EpisodeKind",
    "EpisodeLevel",
    "EpisodeReport",
    "EpisodeSummary",
    "GridUndefined",
    "MageDirection",
    "above_percent",
    "active_percent",
    "active_percent_outputs",
    "adrr",
    "auc",
    "auc_of_grid",
    "below_percent",
    "clean_series",
    "cogi",
    "conga",
    "conga_of_grid",
    "cv_glu",
    "cv_measures",
    "cv_measures_of_grid",
    "day_by_day",
    "ea1c",
    "episodes",
    "episodes_of_grid",
    "gmi",
    "grade",
    "grade_eugly",
    "grade_hyper",
    "grade_hypo",
    "gri",
    "gvp",
    "gvp_of_grid",
    "hbgi",
    "hyper_index",
    "hypo_index",
    "igc",
    "in_range_percent",
    "iqr_glu",
    "j_index",
    "lbgi",
    "m_value",
    "mad_glu",
    "mag",
    "mag_of_grid",
    "mage",
    "mage_of_grid",
    "mean_glu",
    "median_glu",
    "modd",
    "modd_of_grid",
    "pgs",
    "pgs_of_grid",
    "quantile_glu",
    "range_glu",
    "sd_glu",
    "sd_measures",
    "sd_measures_of_grid",
    "sd_roc",
    "sd_roc_of_grid",
    "summary_glu",
]
