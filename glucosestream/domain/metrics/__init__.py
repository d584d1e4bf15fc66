"""CGM metrics computed on iglu's interpolated day-by-day grid (DESIGN.md §4).

One metric per module, each a pure numpy function of one patient's series: ``times_ms`` as the
patient's LOCAL wall-clock time in naive epoch milliseconds (``measured_at +
utc_offset_minutes * 60000``) and ``glucose`` in mg/dL. The reference is the R package iglu
4.3.0; :func:`~glucosestream.domain.metrics.grid.day_by_day` is its ``CGMS2DayByDay``.
"""

from glucosestream.domain.metrics.active_percent import active_percent, active_percent_outputs
from glucosestream.domain.metrics.auc import auc, auc_of_grid
from glucosestream.domain.metrics.conga import conga, conga_of_grid
from glucosestream.domain.metrics.cv_measures import cv_measures, cv_measures_of_grid
from glucosestream.domain.metrics.episodes import (
    Episode,
    EpisodeKind,
    EpisodeLevel,
    EpisodeReport,
    EpisodeSummary,
    episodes,
    episodes_of_grid,
)
from glucosestream.domain.metrics.grid import DayByDayGrid, GridUndefined, clean_series, day_by_day
from glucosestream.domain.metrics.mag import mag, mag_of_grid
from glucosestream.domain.metrics.mage import MAGE_DT0, MageDirection, mage, mage_of_grid
from glucosestream.domain.metrics.modd import modd, modd_of_grid
from glucosestream.domain.metrics.pgs import pgs, pgs_of_grid
from glucosestream.domain.metrics.sd_measures import sd_measures, sd_measures_of_grid
from glucosestream.domain.metrics.sd_roc import sd_roc, sd_roc_of_grid

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
    "active_percent",
    "active_percent_outputs",
    "auc",
    "auc_of_grid",
    "clean_series",
    "conga",
    "conga_of_grid",
    "cv_measures",
    "cv_measures_of_grid",
    "day_by_day",
    "episodes",
    "episodes_of_grid",
    "mag",
    "mag_of_grid",
    "mage",
    "mage_of_grid",
    "modd",
    "modd_of_grid",
    "pgs",
    "pgs_of_grid",
    "sd_measures",
    "sd_measures_of_grid",
    "sd_roc",
    "sd_roc_of_grid",
]
