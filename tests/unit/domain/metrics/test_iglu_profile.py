"""The iglu profile: every output of every R iglu 4.3.0 function, equal to R on its example data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics.iglu_profile import (
    DATE_COLUMNS,
    IGLU_COLUMNS,
    IGLU_FUNCTIONS,
    NUMERIC_COLUMNS,
    PUBLICATIONS,
    PatientInput,
    iglu_profile,
    patient_input,
)
from tests.unit.domain.metrics.iglu_reference import (
    FILES,
    GRID_TOLERANCE,
    NON_GRID_TOLERANCE,
    _reference,
    expected,
    subjects,
)

GRID_FUNCTIONS = {"active_percent", "auc", "conga", "cv_measures", "episode_calculation", "mag",
                  "mage", "modd", "pgs", "sd_measures", "sd_roc"}  # fmt: skip
"""Functions on R's interpolated grid (CGMS2DayByDay): compared at the grid tolerance."""


def _r_value(function: str, file: str, subject: str, output: str) -> float | str | None:
    return expected(function, file)[subject][output]


def test_the_profile_has_every_function_and_output_r_gives() -> None:
    reference = _reference()
    assert {f.name for f in IGLU_FUNCTIONS} == set(reference)
    for function in IGLU_FUNCTIONS:
        first_subject = next(iter(reference[function.name][FILES[0]].values()))
        assert set(function.outputs) == set(first_subject), function.name
    assert len(IGLU_COLUMNS) == len(set(IGLU_COLUMNS))
    assert set(NUMERIC_COLUMNS) == set(IGLU_COLUMNS) - DATE_COLUMNS
    assert set(PUBLICATIONS) == {f.name for f in IGLU_FUNCTIONS}


def test_the_columns_are_named_as_iglu_names_them() -> None:
    for name in ("mean_glu.mean", "above_percent.above_140", "in_range_percent.in_range_63_140",
                 "sd_measures.SDhhmm", "cv_measures.CVsd", "quantile_glu.25",
                 "summary_glu.1st Qu.", "auc.hourly_auc", "cogi.COGI", "gvp.GVP", "igc.IGC",
                 "hyper_index.hyper_index", "hypo_index.hypo_index", "mad_glu.MAD", "pgs.PGS",
                 "sd_roc.sd_roc", "grade_eugly.GRADE_eugly", "grade_hypo.GRADE_hypo",
                 "grade_hyper.GRADE_hyper", "iqr_glu.IQR", "range_glu.range",
                 "active_percent.ndays", "episode_calculation.hypo_extended.avg_ep_gl",
                 "episode_calculation.hyper_lv1_excl.total_episodes"):  # fmt: skip
        assert name in IGLU_COLUMNS


@pytest.mark.parametrize("file", FILES)
def test_every_output_equals_r_iglu(file: str) -> None:
    compared = 0
    for subject, (times, glucose) in subjects(file).items():
        row = iglu_profile(patient_input(times, glucose))
        for function in IGLU_FUNCTIONS:
            for output, column in zip(function.outputs, function.columns, strict=True):
                want = _r_value(function.name, file, subject, output)
                got = row[column]
                if column in DATE_COLUMNS:
                    stamp = np.datetime64(int(got), "ms").astype("datetime64[s]")
                    assert isinstance(want, str)
                    assert str(stamp) == want[:19], (subject, column)
                elif want is None:
                    assert math.isnan(got), (subject, column, got)
                else:
                    tolerance = (
                        GRID_TOLERANCE if function.name in GRID_FUNCTIONS else NON_GRID_TOLERANCE
                    )
                    assert got == pytest.approx(want, rel=tolerance, abs=1e-12), (
                        subject,
                        column,
                    )
                compared += 1
    assert compared == len(subjects(file)) * len(IGLU_COLUMNS)


def test_too_little_data_empties_only_what_it_must() -> None:
    # Two readings 5 minutes apart: enough for the mean, not for a day-by-day variability.
    times = np.array([0, 300_000], dtype=np.int64) + 1_700_000_000_000
    row = iglu_profile(patient_input(times, np.array([100.0, 120.0])))
    assert row["mean_glu.mean"] == 110.0
    assert row["range_glu.range"] == 20.0
    assert math.isnan(row["modd.MODD"])
    assert set(row) == set(IGLU_COLUMNS)


def test_one_reading_never_crashes() -> None:
    row = iglu_profile(patient_input(np.array([1_700_000_000_000]), np.array([95.0])))
    assert row["mean_glu.mean"] == 95.0
    assert math.isnan(row["sd_glu.SD"])
    assert math.isnan(row["conga.CONGA"])


def test_start_and_end_dates_are_on_the_wall_clock_across_a_clock_change() -> None:
    # Readings every 5 minutes on a continuous axis; after the 12th the clocks go forward an
    # hour (wall clock = axis + 1 h): R prints the last instant in local time, 1 h later.
    times = 1_700_000_000_000 + np.arange(24, dtype=np.int64) * 300_000
    local = times + np.where(np.arange(24) >= 12, 3_600_000, 0)
    glucose = 100 + np.arange(24, dtype=np.float64)
    base = patient_input(times, glucose)
    shifted = PatientInput(times, glucose, base.grid, base.episodes, local)
    on_axis, on_wall = iglu_profile(base), iglu_profile(shifted)
    assert on_wall["active_percent.start_date"] == on_axis["active_percent.start_date"] == times[0]
    assert on_wall["active_percent.end_date"] == times[-1] + 3_600_000
    assert on_axis["active_percent.end_date"] == times[-1]
    same = [k for k in on_axis if k not in DATE_COLUMNS]
    assert np.array_equal([on_wall[k] for k in same], [on_axis[k] for k in same], equal_nan=True)
