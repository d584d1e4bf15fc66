"""marts/patient_daily_metrics.sql on the local Athena (DuckDB), against hand computation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from tests.unit.sql.period_readings import Reading, utc
from tests.unit.sql.period_readings import run_mart as period_readings_mart

MART = "marts/patient_daily_metrics.sql"


def run_mart(readings: Sequence[Reading]) -> dict[tuple[str, Any], dict[str, Any]]:
    return period_readings_mart(MART, readings, "local_day")


HAND_READINGS: list[Reading] = [
    # a, UTC: 2026-01-05 has 50, 100, 150, 250; 2026-01-06 has one reading.
    ("a", utc("2026-01-05T08:00:00"), 0, 50.0),
    ("a", utc("2026-01-05T08:05:00"), 0, 100.0),
    ("a", utc("2026-01-05T08:10:00"), 0, 150.0),
    ("a", utc("2026-01-05T08:15:00"), 0, 250.0),
    ("a", utc("2026-01-06T12:00:00"), 0, 300.0),
    # a, 2026-01-07: every consensus boundary value once.
    *[
        ("a", utc("2026-01-07T10:00:00") + timedelta(minutes=5 * i), 0, g)
        for i, g in enumerate([53.0, 54.0, 70.0, 140.0, 180.0, 250.0, 251.0])
    ],
    # b, UTC+2: all on 2026-01-05 in UTC, but 23:30 | 00:30, 01:30 local.
    ("b", utc("2026-01-05T21:30:00"), 120, 60.0),
    ("b", utc("2026-01-05T22:30:00"), 120, 200.0),
    ("b", utc("2026-01-05T23:30:00"), 120, 180.0),
    # c, UTC-5: both on 2026-01-06 in UTC, but 22:00 on the 5th | 01:00 on the 6th local.
    ("c", utc("2026-01-06T03:00:00"), -300, 70.0),
    ("c", utc("2026-01-06T06:00:00"), -300, 140.0),
]


@pytest.fixture(scope="module")
def hand() -> dict[tuple[str, date], dict[str, Any]]:
    return run_mart(HAND_READINGS)


def test_one_row_per_patient_and_local_day(hand: dict[tuple[str, date], dict[str, Any]]) -> None:
    assert list(hand) == [
        ("a", date(2026, 1, 5)),
        ("a", date(2026, 1, 6)),
        ("a", date(2026, 1, 7)),
        ("b", date(2026, 1, 5)),
        ("b", date(2026, 1, 6)),
        ("c", date(2026, 1, 5)),
        ("c", date(2026, 1, 6)),
    ]


def test_hand_computed_day(hand: dict[tuple[str, date], dict[str, Any]]) -> None:
    row = hand[("a", date(2026, 1, 5))]
    assert row["n_readings"] == 4
    assert row["mean"] == pytest.approx(137.5)  # 550 / 4
    sd = math.sqrt((87.5**2 + 37.5**2 + 12.5**2 + 112.5**2) / 3)
    assert row["sd"] == pytest.approx(sd)
    assert row["cv"] == pytest.approx(100 * sd / 137.5)
    assert row["gmi"] == pytest.approx(3.31 + 0.02392 * 137.5)
    assert row["tbr_54"] == pytest.approx(25.0)  # 50
    assert row["tbr_70"] == pytest.approx(25.0)  # 50
    assert row["tir_70_180"] == pytest.approx(50.0)  # 100, 150
    assert row["titr_70_140"] == pytest.approx(25.0)  # 100
    assert row["tar_180"] == pytest.approx(25.0)  # 250
    assert row["tar_250"] == pytest.approx(0.0)  # 250 is not > 250
    assert row["min"] == 50.0
    assert row["max"] == 250.0


def test_consensus_boundaries(hand: dict[tuple[str, date], dict[str, Any]]) -> None:
    # 53, 54, 70, 140, 180, 250, 251: TBR<54 {53}; TBR<70 {53, 54}; TIR {70, 140, 180};
    # TITR {70, 140}; TAR>180 {250, 251}; TAR>250 {251}.
    row = hand[("a", date(2026, 1, 7))]
    assert row["n_readings"] == 7
    assert row["tbr_54"] == pytest.approx(100 / 7)
    assert row["tbr_70"] == pytest.approx(200 / 7)
    assert row["tir_70_180"] == pytest.approx(300 / 7)
    assert row["titr_70_140"] == pytest.approx(200 / 7)
    assert row["tar_180"] == pytest.approx(200 / 7)
    assert row["tar_250"] == pytest.approx(100 / 7)
    assert row["mean"] == pytest.approx(998 / 7)
    assert row["min"] == 53.0
    assert row["max"] == 251.0


def test_one_reading_day_has_no_sd(hand: dict[tuple[str, date], dict[str, Any]]) -> None:
    row = hand[("a", date(2026, 1, 6))]
    assert row["n_readings"] == 1
    assert row["mean"] == pytest.approx(300.0)
    assert row["sd"] is None  # the sample SD needs two readings
    assert row["cv"] is None
    assert row["tar_250"] == pytest.approx(100.0)
    assert row["min"] == row["max"] == 300.0


def test_days_are_local_east_of_utc(hand: dict[tuple[str, date], dict[str, Any]]) -> None:
    # UTC+2: 21:30Z is 23:30 on the 5th; 22:30Z and 23:30Z are 00:30 and 01:30 on the 6th.
    before, after = hand[("b", date(2026, 1, 5))], hand[("b", date(2026, 1, 6))]
    assert before["n_readings"] == 1
    assert before["mean"] == pytest.approx(60.0)
    assert before["tbr_70"] == pytest.approx(100.0)
    assert after["n_readings"] == 2
    assert after["mean"] == pytest.approx(190.0)
    assert after["sd"] == pytest.approx(math.sqrt(10**2 + 10**2))  # / (2 - 1)
    assert after["cv"] == pytest.approx(100 * math.sqrt(200) / 190)
    assert after["tir_70_180"] == pytest.approx(50.0)  # 180 inclusive
    assert after["tar_180"] == pytest.approx(50.0)  # 200
    assert after["gmi"] == pytest.approx(3.31 + 0.02392 * 190)
    assert (after["min"], after["max"]) == (180.0, 200.0)


def test_days_are_local_west_of_utc(hand: dict[tuple[str, date], dict[str, Any]]) -> None:
    # UTC-5: 03:00Z and 06:00Z on the 6th are 22:00 on the 5th and 01:00 on the 6th.
    before, after = hand[("c", date(2026, 1, 5))], hand[("c", date(2026, 1, 6))]
    assert (before["n_readings"], before["mean"]) == (1, pytest.approx(70.0))
    assert before["tir_70_180"] == pytest.approx(100.0)  # 70 inclusive
    assert before["tbr_70"] == pytest.approx(0.0)
    assert (after["n_readings"], after["mean"]) == (1, pytest.approx(140.0))
    assert after["titr_70_140"] == pytest.approx(100.0)  # 140 inclusive


def test_matches_numpy_per_local_day() -> None:
    rng = np.random.default_rng(20260105)
    start = utc("2026-03-01T00:00:00")
    readings: list[Reading] = []
    for patient, offset, count in (("p1", 330, 900), ("p2", -420, 400)):
        seconds = rng.choice(10 * 86400, size=count, replace=False)
        glucose = rng.uniform(40.0, 400.0, size=count)
        readings += [
            (patient, start + timedelta(seconds=int(s)), offset, float(g))
            for s, g in zip(seconds, glucose, strict=True)
        ]
    rows = run_mart(readings)

    expected: dict[tuple[str, date], list[float]] = {}
    for patient, measured, offset, glucose in readings:
        local_day = (measured + timedelta(minutes=offset)).date()
        expected.setdefault((patient, local_day), []).append(glucose)
    assert sorted(rows) == sorted(expected)
    for key, values in expected.items():
        g, row = np.array(values), rows[key]
        assert row["n_readings"] == len(g)
        assert row["mean"] == pytest.approx(g.mean(), rel=1e-12)
        assert row["sd"] == pytest.approx(g.std(ddof=1), rel=1e-9)
        assert row["tir_70_180"] == pytest.approx(100 * np.mean((g >= 70) & (g <= 180)))
        assert row["tbr_70"] == pytest.approx(100 * np.mean(g < 70))
        assert row["tar_250"] == pytest.approx(100 * np.mean(g > 250))
        assert (row["min"], row["max"]) == (g.min(), g.max())
