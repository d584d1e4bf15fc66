"""sd_measures: R iglu 4.3.0's values, hand-computed cases, short series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glucosestream.domain.metrics import day_by_day, sd_measures, sd_measures_of_grid
from tests.unit.domain.metrics import two_day_series
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid, same_outputs
from tests.unit.domain.metrics.series import at_minutes

KEYS = {"SDw", "SDhhmm", "SDwsh", "SDdm", "SDb", "SDbdm"}


@pytest.mark.parametrize(("file", "subject"), cases("sd_measures"))
def test_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert_matches_r_grid(sd_measures(times, glucose), expected("sd_measures", file)[subject])


def test_by_hand() -> None:
    # Grid (dt0 20, 72 points a day): day 0 alternates 90, 110; day 1 alternates 110, 130;
    # day 2 all NaN.
    # SDw: each day SD sqrt(72 * 10^2 / 71). SDhhmm: time-of-day means alternate 100, 120,
    # same SD. SDdm: daily means 100, 120 -> 20 / sqrt(2). SDb: every column (x, x + 20) ->
    # 20 / sqrt(2). SDbdm: minus the daily means both days are +-10 alike -> 0.
    # SDwsh: windows of round(60/20) = 3 points. Every full window, also across midnight
    # (90,110,110) and (110,110,130), is two of one value and one 20 apart: SD sqrt(400/3);
    # there are 142 (starts 0 … 141). Start 142 holds the last two readings (110, 130) and a
    # NaN: SD 20 / sqrt(2). Later windows hold fewer than two values.
    day_sd = math.sqrt(72 * 100 / 71)
    two = 20 / math.sqrt(2)
    sdwsh = (142 * math.sqrt(400 / 3) + two) / 143
    out = sd_measures(two_day_series.TIMES_MS, two_day_series.GLUCOSE)
    assert out == pytest.approx(
        {"SDw": day_sd, "SDhhmm": day_sd, "SDwsh": sdwsh, "SDdm": two, "SDb": two, "SDbdm": 0.0},
        rel=1e-12,
        abs=1e-12,
    )


def test_sdwsh_windows_run_into_rs_extra_row_by_hand() -> None:
    # Ten-minute readings 22:50 … 23:50 of one day: 100, 120, 100, 120, 100, 120, 100 (grid
    # columns 136 … 142; column 143, 24:00, is NaN). The last time of day is later than the
    # first, so R's grid has a second, all-NaN row, and its 6-point windows (round(60/10))
    # starting at columns 139, 140, 141 exist and count:
    #   a = SD of 2 values 20 apart = 20/sqrt(2)           starts 132, 141
    #   b = SD of (100,120,100) or 2 + 2 = sqrt(400/3)      starts 133, 134, 139, 140
    #   c = SD of 5 or 6 alternating values = sqrt(120)     starts 135 … 138
    # R: (2a + 4b + 4c) / 10; without the extra row it would be (a + 2b + 4c) / 7.
    # One day: SDw = SDhhmm = SD of 4 x 100, 3 x 120 = sqrt(5600)/7; SDdm, SDb, SDbdm NaN.
    minutes = np.arange(22 * 60 + 50, 23 * 60 + 51, 10)
    g = np.where(np.arange(minutes.size) % 2 == 0, 100.0, 120.0)
    a, b, c = 20 / math.sqrt(2), math.sqrt(400 / 3), math.sqrt(120)
    out = sd_measures(at_minutes(minutes), g)
    assert out["SDwsh"] == pytest.approx((2 * a + 4 * b + 4 * c) / 10, rel=1e-12)
    assert out["SDw"] == pytest.approx(math.sqrt(5600) / 7, rel=1e-12)
    assert out["SDhhmm"] == pytest.approx(math.sqrt(5600) / 7, rel=1e-12)
    assert all(math.isnan(out[key]) for key in ("SDdm", "SDb", "SDbdm"))


def test_sdwsh_nan_when_the_hour_holds_fewer_than_three_points() -> None:
    # 30-min data: round(60/30) = 2 points an hour, where caTools::runsd stops (R: error).
    minutes = np.arange(30, 3 * 1440, 30)
    out = sd_measures(at_minutes(minutes), 100 + (minutes % 90).astype(float))
    assert math.isnan(out["SDwsh"])
    assert math.isfinite(out["SDw"])


@pytest.mark.parametrize(
    ("minutes", "glucose"), [([], []), ([0], [120.0]), ([0, 5], [np.nan, 120.0])]
)
def test_nan_for_too_little_data(minutes: list[float], glucose: list[float]) -> None:
    out = sd_measures(at_minutes(minutes), np.array(glucose))
    assert set(out) == KEYS
    assert all(math.isnan(value) for value in out.values())


@pytest.mark.parametrize(("file", "subject"), cases("sd_measures"))
def test_of_grid_equals_the_wrapper(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    assert same_outputs(
        sd_measures_of_grid(day_by_day(times, glucose)), sd_measures(times, glucose)
    )
