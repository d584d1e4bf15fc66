"""active_percent_outputs: R iglu 4.3.0's four outputs, hand-computed cases, short series."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from glucosestream.domain.metrics import active_percent, active_percent_outputs
from tests.unit.domain.metrics.iglu_reference import cases, expected, subjects
from tests.unit.domain.metrics.r_match import assert_matches_r_grid
from tests.unit.domain.metrics.series import DAY0_MS, MINUTE_MS, at_minutes

EPOCH = datetime(1970, 1, 1)


def _wall_clock_ms(iso: str) -> float:
    """R's POSIXct, written with its zone's offset, as naive wall-clock epoch ms."""
    wall = datetime.fromisoformat(iso).replace(tzinfo=None)
    return (wall - EPOCH).total_seconds() * 1000


@pytest.mark.parametrize(("file", "subject"), cases("active_percent"))
def test_matches_r(file: str, subject: str) -> None:
    times, glucose = subjects(file)[subject]
    theirs = dict(expected("active_percent", file)[subject])
    for key in ("start_date", "end_date"):
        assert isinstance(theirs[key], str)
        theirs[key] = _wall_clock_ms(str(theirs[key]))
    ours = active_percent_outputs(times, glucose)
    assert_matches_r_grid(ours, theirs)
    # Instants exactly, not within a tolerance.
    assert (ours["start_date"], ours["end_date"]) == (theirs["start_date"], theirs["end_date"])


def test_by_hand() -> None:
    # 05:00 of day 0 to 12:00 of day 1 every 5 min, without 06:00 (NaN glucose) and a
    # reading at 13:00 of day 1 with NaN glucose (not counted). Span 31 h = 1.2917 days ->
    # ndays 1.3; start 05:00 day 0, end 12:00 day 1; active % as active_percent.
    minutes = np.arange(5 * 60, 36 * 60 + 1, 5, dtype=float)
    g = np.full(minutes.size, 110.0)
    g[minutes == 6 * 60] = np.nan
    minutes = np.append(minutes, 37 * 60)
    g = np.append(g, np.nan)
    times = at_minutes(minutes)
    out = active_percent_outputs(times, g)
    assert out == {
        "active_percent": active_percent(times, g),
        "ndays": 1.3,
        "start_date": float(DAY0_MS + 5 * 60 * MINUTE_MS),
        "end_date": float(DAY0_MS + 36 * 60 * MINUTE_MS),
    }
    # 373 expected readings over 31 h, one 10-min gap = 1 missing.
    assert out["active_percent"] == pytest.approx(100 * 372 / 373, rel=1e-12)


def test_reading_order_does_not_matter() -> None:
    minutes = np.array([50.0, 0, 25, 5, 10])
    out = active_percent_outputs(at_minutes(minutes), np.full(5, 100.0))
    assert (out["start_date"], out["end_date"]) == (float(DAY0_MS), float(DAY0_MS + 50 * 60_000))


def test_nan_for_no_reading() -> None:
    out = active_percent_outputs(at_minutes([]), np.array([]))
    assert set(out) == {"active_percent", "ndays", "start_date", "end_date"}
    assert all(math.isnan(value) for value in out.values())
    out = active_percent_outputs(at_minutes([0, 5]), np.array([np.nan, np.nan]))
    assert all(math.isnan(value) for value in out.values())


def test_one_reading_has_no_percentage() -> None:
    out = active_percent_outputs(at_minutes([30]), np.array([100.0]))
    assert math.isnan(out["active_percent"])
    assert out["ndays"] == 0.0
    assert out["start_date"] == out["end_date"] == float(DAY0_MS + 30 * MINUTE_MS)
