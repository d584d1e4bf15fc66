"""cv_measures: R iglu 4.3.0's values, a hand-computed case, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import cv_measures, cv_measures_of_grid, day_by_day
from tests.unit.domain.metrics import two_day_series
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid, same_outputs
from tests.unit.domain.metrics.series import at_minutes


@pytest.mark.parametrize(("file", "subject"), cases("cv_measures"))
def test_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert_matches_r_grid(cv_measures(times, glucose), expected("cv_measures", file)[subject])


def test_by_hand() -> None:
    # Day 0: 36 x 90 and 36 x 110 -> mean 100, SD = sqrt(72 * 10^2 / 71), CV_0 = SD.
    # Day 1: 36 x 110 and 36 x 130 -> mean 120, same SD, CV_1 = 100 SD / 120.
    # Day 2 (all NaN) has no CV and is left out.
    sd = math.sqrt(72 * 100 / 71)
    cv0, cv1 = sd, 100 * sd / 120
    out = cv_measures(two_day_series.TIMES_MS, two_day_series.GLUCOSE)
    assert out["CVmean"] == pytest.approx((cv0 + cv1) / 2, rel=1e-12)
    assert out["CVsd"] == pytest.approx(abs(cv0 - cv1) / math.sqrt(2), rel=1e-12)


def test_one_day_has_no_cv_sd() -> None:
    # As R on each one-day subject: CVsd is the SD of a single daily CV, NA.
    minutes = np.arange(5, 600, 5)
    out = cv_measures(at_minutes(minutes), 100 + (minutes % 20).astype(float))
    assert math.isfinite(out["CVmean"])
    assert math.isnan(out["CVsd"])


@pytest.mark.parametrize(
    ("minutes", "glucose"), [([], []), ([0], [120.0]), ([0, 5], [np.nan, 120.0])]
)
def test_nan_for_too_little_data(minutes: list[float], glucose: list[float]) -> None:
    out = cv_measures(at_minutes(minutes), np.array(glucose))
    assert set(out) == {"CVmean", "CVsd"}
    assert all(math.isnan(value) for value in out.values())


@pytest.mark.parametrize(("file", "subject"), cases("cv_measures"))
def test_of_grid_equals_the_wrapper(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert same_outputs(
        cv_measures_of_grid(day_by_day(times, glucose)), cv_measures(times, glucose)
    )
