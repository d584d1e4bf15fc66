"""The ``iglu`` metrics profile: every output of every R iglu 4.3.0 metric function.

One row per patient, one column per output, named ``<function>.<output>`` exactly as R iglu
names them (``mean_glu.mean``, ``summary_glu.1st Qu.``, ``episode_calculation.hypo_lv1.
avg_ep_per_day``), each function called with its default arguments. Every function is its own
module in :mod:`glucosestream.domain.metrics` with its formula, units and reference; this
module only lists them and shares one patient's grid and episodes among those that need them
(as :func:`glucosestream.elt.grid_metrics.patient_grid` does for the default profile).

Reference values: R iglu 4.3.0 on iglu's example data (tests/fixtures/iglu_r/), every output
tested. Broll et al. (2021) PLoS ONE 16(4): e0248560, doi:10.1371/journal.pone.0248560.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.above_percent import above_percent
from glucosestream.domain.metrics.active_percent import active_percent_outputs
from glucosestream.domain.metrics.adrr import adrr
from glucosestream.domain.metrics.auc import auc, auc_of_grid
from glucosestream.domain.metrics.below_percent import below_percent
from glucosestream.domain.metrics.cogi import cogi
from glucosestream.domain.metrics.conga import conga, conga_of_grid
from glucosestream.domain.metrics.cv_glu import cv_glu
from glucosestream.domain.metrics.cv_measures import cv_measures, cv_measures_of_grid
from glucosestream.domain.metrics.ea1c import ea1c
from glucosestream.domain.metrics.episodes import EpisodeReport, episodes_on_shared_grid
from glucosestream.domain.metrics.gmi import gmi
from glucosestream.domain.metrics.grade import grade
from glucosestream.domain.metrics.grade_eugly import grade_eugly
from glucosestream.domain.metrics.grade_hyper import grade_hyper
from glucosestream.domain.metrics.grade_hypo import grade_hypo
from glucosestream.domain.metrics.gri import gri
from glucosestream.domain.metrics.grid import DayByDayGrid, grid_or_none
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
from glucosestream.domain.metrics.mage import mage_on_shared_grid
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
    "DATE_COLUMNS",
    "IGLU_COLUMNS",
    "IGLU_FUNCTIONS",
    "NUMERIC_COLUMNS",
    "PUBLICATIONS",
    "IgluFunction",
    "PatientInput",
    "axis_wall_clocks",
    "iglu_profile",
    "patient_input",
]


@dataclass(frozen=True, slots=True)
class PatientInput:
    """One patient's readings and what several iglu functions share: the default grid
    (``CGMS2DayByDay``, estimated step, ``inter_gap`` 45; None when it cannot be built) and
    the episodes found on it."""

    times_ms: npt.NDArray[np.int64]
    """Local time on the patient's continuous axis, epoch ms (PatientSeries.times)."""
    glucose: npt.NDArray[np.float64]
    """mg/dL."""
    grid: DayByDayGrid | None
    episodes: EpisodeReport
    local_times_ms: npt.NDArray[np.int64] | None = None
    """Each reading's wall-clock time when the axis is not the wall clock (a daylight-saving
    change in the series; ``times_ms`` ascending then); None: ``times_ms`` is the wall clock."""

    def wall_clock(self, axis_ms: float) -> float:
        """The wall-clock time of an instant on the axis (NaN stays NaN): the offset of the
        reading at or before it applies, as R prints a POSIXct in the local zone."""
        if self.local_times_ms is None or math.isnan(axis_ms):
            return axis_ms
        instant = np.array([int(axis_ms)], dtype=np.int64)
        return float(axis_wall_clocks(self.times_ms, self.local_times_ms, instant)[0])


def axis_wall_clocks(
    times_ms: npt.NDArray[np.int64],
    local_times_ms: npt.NDArray[np.int64],
    axis_ms: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """The wall-clock times (naive epoch ms) of instants on a patient's continuous local axis
    (``times_ms``, ascending; ``local_times_ms`` each reading's wall clock): the UTC offset of
    the reading at or before each instant applies (one search for all)."""
    index = np.maximum(np.searchsorted(times_ms, axis_ms, side="right") - 1, 0)
    out: npt.NDArray[np.int64] = local_times_ms[index] + (axis_ms - times_ms[index])
    return out


def patient_input(
    times_ms: npt.ArrayLike, glucose: npt.ArrayLike, episode_report: EpisodeReport | None = None
) -> PatientInput:
    """The shared inputs of one patient (``episode_report`` when already found on its grid)."""
    t = np.asarray(times_ms, dtype=np.int64)
    g = np.asarray(glucose, dtype=np.float64)
    grid = grid_or_none(t, g)
    if episode_report is None:
        episode_report = episodes_on_shared_grid(grid, t, g)
    return PatientInput(t, g, grid, episode_report)


Compute = Callable[[PatientInput], Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class IgluFunction:
    """One R iglu function: its name, its outputs in R's order, how to compute them."""

    name: str
    outputs: tuple[str, ...]
    compute: Compute

    @property
    def module(self) -> str:
        """The module with the function's formula, units and reference."""
        return "episodes" if self.name == "episode_calculation" else self.name

    @property
    def reference(self) -> str:
        """R iglu 4.3.0's function and the publication its formula comes from."""
        return f"R iglu 4.3.0 {self.name}(); {PUBLICATIONS[self.name]}"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{output}" for output in self.outputs)


def _glucose(function: Callable[[npt.ArrayLike], Mapping[str, float]]) -> Compute:
    return lambda patient: function(patient.glucose)


def _timed(function: Callable[[npt.ArrayLike, npt.ArrayLike], Mapping[str, float]]) -> Compute:
    return lambda patient: function(patient.times_ms, patient.glucose)


def _grid_outputs(
    of_grid: Callable[[DayByDayGrid], Mapping[str, float]],
    alone: Callable[[npt.ArrayLike, npt.ArrayLike], Mapping[str, float]],
) -> Compute:
    """A function of the shared default grid (its own function when the series has none)."""

    def compute(patient: PatientInput) -> Mapping[str, float]:
        if patient.grid is None:
            return alone(patient.times_ms, patient.glucose)
        return of_grid(patient.grid)

    return compute


def _on_grid(
    of_grid: Callable[[DayByDayGrid], float],
    alone: Callable[[npt.ArrayLike, npt.ArrayLike], float],
    output: str,
) -> Compute:
    """:func:`_grid_outputs` of a metric with one output."""
    return _grid_outputs(lambda grid: {output: of_grid(grid)}, lambda t, g: {output: alone(t, g)})


def _active_percent(patient: PatientInput) -> Mapping[str, float]:
    out = dict(active_percent_outputs(patient.times_ms, patient.glucose))
    for instant in ("start_date", "end_date"):
        out[instant] = patient.wall_clock(out[instant])
    return out


def _pgs(patient: PatientInput) -> Mapping[str, float]:
    if patient.grid is None:
        return pgs(patient.times_ms, patient.glucose)
    return pgs_of_grid(patient.grid, patient.glucose)


def _mage(patient: PatientInput) -> Mapping[str, float]:
    return {"MAGE": mage_on_shared_grid(patient.grid, patient.times_ms, patient.glucose)}


PUBLICATIONS: dict[str, str] = {
    "above_percent": "Battelino et al. 2019, Diabetes Care 42:1593",
    "active_percent": "Danne et al. 2017, Diabetes Care 40:1631",
    "adrr": "Kovatchev et al. 2006, Diabetes Care 29:2433",
    "auc": "Danne et al. 2017, Diabetes Care 40:1631",
    "below_percent": "Battelino et al. 2019, Diabetes Care 42:1593",
    "cogi": "Leelarathna et al. 2020, J Diabetes Sci Technol 14:277",
    "conga": "McDonnell et al. 2005, Diabetes Technol Ther 7:253",
    "cv_glu": "Battelino et al. 2019, Diabetes Care 42:1593",
    "cv_measures": "Umpierrez & Kovatchev 2018, Am J Med Sci 356:518",
    "ea1c": "Nathan et al. 2008, Diabetes Care 31:1473",
    "episode_calculation": "Battelino et al. 2023, Lancet Diabetes Endocrinol 11:42",
    "gmi": "Bergenstal et al. 2018, Diabetes Care 41:2275",
    "grade": "Hill et al. 2007, Diabet Med 24:753",
    "grade_eugly": "Hill et al. 2007, Diabet Med 24:753",
    "grade_hyper": "Hill et al. 2007, Diabet Med 24:753",
    "grade_hypo": "Hill et al. 2007, Diabet Med 24:753",
    "gri": "Klonoff et al. 2023, J Diabetes Sci Technol 17:1226",
    "gvp": "Peyser et al. 2018, Diabetes Technol Ther 20:6",
    "hbgi": "Kovatchev et al. 2006, Diabetes Care 29:2433",
    "hyper_index": "Rodbard 2009, Diabetes Technol Ther 11(S1):S55",
    "hypo_index": "Rodbard 2009, Diabetes Technol Ther 11(S1):S55",
    "igc": "Rodbard 2009, Diabetes Technol Ther 11(S1):S55",
    "in_range_percent": "Battelino et al. 2019, Diabetes Care 42:1593",
    "iqr_glu": "interquartile range (R quantile type 7)",
    "j_index": "Wojcicki 1995, Horm Metab Res 27:41",
    "lbgi": "Kovatchev et al. 2006, Diabetes Care 29:2433",
    "m_value": "Schlichtkrull et al. 1965, Acta Med Scand 177:95",
    "mad_glu": "Hampel 1974, J Am Stat Assoc 69:383 (R stats::mad)",
    "mag": "Hermanides et al. 2010, Crit Care Med 38:838",
    "mage": "Service et al. 1970, Diabetes 19:644; Fernandes et al. 2022, JDST",
    "mean_glu": "Battelino et al. 2019, Diabetes Care 42:1593",
    "median_glu": "descriptive statistic",
    "modd": "Molnar et al. 1972, Diabetologia 8:342",
    "pgs": "Hirsch et al. 2017, Diabetes Technol Ther 19(S3):S38",
    "quantile_glu": "quantiles (R quantile type 7)",
    "range_glu": "descriptive statistic",
    "sd_glu": "Battelino et al. 2019, Diabetes Care 42:1593",
    "sd_measures": "Rodbard 2009, Diabetes Technol Ther 11:551",
    "sd_roc": "Clarke & Kovatchev 2009, Diabetes Technol Ther 11(S1):S45",
    "summary_glu": "descriptive statistics (R summary)",
}
"""The publication each function's formula comes from (the module's docstring has the full
citation)."""

EPISODE_STATS = ("avg_ep_per_day", "avg_ep_duration", "avg_ep_gl", "total_episodes")
EPISODE_TYPES = ("hypo_lv1", "hypo_lv2", "hypo_extended", "hyper_lv1", "hyper_lv2",
                 "hypo_lv1_excl", "hyper_lv1_excl")  # fmt: skip
"""R's episode_calculation rows (``type``_``level``), in its order."""


def _episode_calculation(patient: PatientInput) -> Mapping[str, float]:
    out: dict[str, float] = {}
    for row in patient.episodes.summary:
        for stat in EPISODE_STATS:
            out[f"{row.kind}_{row.level}.{stat}"] = float(getattr(row, stat))
    return out


IGLU_FUNCTIONS: tuple[IgluFunction, ...] = (
    IgluFunction("above_percent", ("above_140", "above_180", "above_250"),
                 _glucose(above_percent)),
    IgluFunction("active_percent", ("active_percent", "ndays", "start_date", "end_date"),
                 _active_percent),
    IgluFunction("adrr", ("ADRR",), _timed(adrr)),
    IgluFunction("auc", ("hourly_auc",), _grid_outputs(auc_of_grid, auc)),
    IgluFunction("below_percent", ("below_54", "below_70"),
                 _glucose(below_percent)),
    IgluFunction("cogi", ("COGI",), _glucose(cogi)),
    IgluFunction("conga", ("CONGA",),
                 _on_grid(lambda g: conga_of_grid(g, n=24), lambda t, g: conga(t, g, n=24),
                          "CONGA")),
    IgluFunction("cv_glu", ("CV",), _glucose(cv_glu)),
    IgluFunction("cv_measures", ("CVmean", "CVsd"),
                 _grid_outputs(cv_measures_of_grid, cv_measures)),
    IgluFunction("ea1c", ("eA1C",), _glucose(ea1c)),
    IgluFunction("episode_calculation",
                 tuple(f"{kind}.{stat}" for kind in EPISODE_TYPES for stat in EPISODE_STATS),
                 _episode_calculation),
    IgluFunction("gmi", ("GMI",), _glucose(gmi)),
    IgluFunction("grade", ("GRADE",), _glucose(grade)),
    IgluFunction("grade_eugly", ("GRADE_eugly",), _glucose(grade_eugly)),
    IgluFunction("grade_hyper", ("GRADE_hyper",), _glucose(grade_hyper)),
    IgluFunction("grade_hypo", ("GRADE_hypo",), _glucose(grade_hypo)),
    IgluFunction("gri", ("GRI",), _timed(gri)),
    IgluFunction("gvp", ("GVP",), _grid_outputs(gvp_of_grid, gvp)),
    IgluFunction("hbgi", ("HBGI",), _glucose(hbgi)),
    IgluFunction("hyper_index", ("hyper_index",), _glucose(hyper_index)),
    IgluFunction("hypo_index", ("hypo_index",), _glucose(hypo_index)),
    IgluFunction("igc", ("IGC",), _glucose(igc)),
    IgluFunction("in_range_percent", ("in_range_63_140", "in_range_70_180"),
                 _glucose(in_range_percent)),
    IgluFunction("iqr_glu", ("IQR",), _glucose(iqr_glu)),
    IgluFunction("j_index", ("J_index",), _glucose(j_index)),
    IgluFunction("lbgi", ("LBGI",), _glucose(lbgi)),
    IgluFunction("m_value", ("M_value",), _glucose(m_value)),
    IgluFunction("mad_glu", ("MAD",), _glucose(mad_glu)),
    IgluFunction("mag", ("MAG",), _on_grid(mag_of_grid, mag, "MAG")),
    IgluFunction("mage", ("MAGE",), _mage),
    IgluFunction("mean_glu", ("mean",), _glucose(mean_glu)),
    IgluFunction("median_glu", ("median",), _glucose(median_glu)),
    IgluFunction("modd", ("MODD",), _on_grid(modd_of_grid, modd, "MODD")),
    IgluFunction("pgs", ("PGS",), _pgs),
    IgluFunction("quantile_glu", ("0", "25", "50", "75", "100"),
                 _glucose(quantile_glu)),
    IgluFunction("range_glu", ("range",), _glucose(range_glu)),
    IgluFunction("sd_glu", ("SD",), _glucose(sd_glu)),
    IgluFunction("sd_measures", ("SDw", "SDhhmm", "SDwsh", "SDdm", "SDb", "SDbdm"),
                 _grid_outputs(sd_measures_of_grid, sd_measures)),
    IgluFunction("sd_roc", ("sd_roc",), _grid_outputs(sd_roc_of_grid, sd_roc)),
    IgluFunction("summary_glu", ("Min.", "1st Qu.", "Median", "Mean", "3rd Qu.", "Max."),
                 _glucose(summary_glu)),
)  # fmt: skip
"""Every R iglu 4.3.0 function that gives one row per subject, in alphabetical order."""

IGLU_COLUMNS: tuple[str, ...] = tuple(c for f in IGLU_FUNCTIONS for c in f.columns)
"""The profile's columns (after ``id``), in order."""

DATE_COLUMNS = frozenset({"active_percent.start_date", "active_percent.end_date"})
"""Columns holding instants (naive local epoch ms) rather than numbers: R gives POSIXct."""
NUMERIC_COLUMNS: tuple[str, ...] = tuple(c for c in IGLU_COLUMNS if c not in DATE_COLUMNS)
"""The profile's numbers: the ``metric`` values of the ``patient_period_metrics_iglu`` mart."""


def iglu_profile(patient: PatientInput) -> dict[str, float]:
    """Every column of :data:`IGLU_COLUMNS` for one patient: NaN where R gives NA (too little
    data for that metric), the other metrics unaffected."""
    row: dict[str, float] = {}
    for function in IGLU_FUNCTIONS:
        values = function.compute(patient)
        for output, column in zip(function.outputs, function.columns, strict=True):
            value = values.get(output, math.nan)
            row[column] = math.nan if value is None else float(value)
    return row
