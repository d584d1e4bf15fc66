"""marts/agp_profile.sql on the local Athena (DuckDB): hand computation and numpy type 7."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from tests.unit.sql.period_readings import Reading, utc
from tests.unit.sql.period_readings import run_mart as period_readings_mart

MART = "marts/agp_profile.sql"
PERCENTILES = {"p05": 5, "p25": 25, "p50": 50, "p75": 75, "p95": 95}


def run_mart(readings: Sequence[Reading]) -> dict[tuple[str, Any], dict[str, Any]]:
    return period_readings_mart(MART, readings, "slot")


HAND_READINGS: list[Reading] = [
    # p lives at UTC+2. Local 00:00-00:14:59 (slot 0) on four days is 22:00-22:14:59 UTC the
    # day before (UTC slot 88); given out of glucose order.
    ("p", utc("2026-01-05T22:05:00"), 120, 140.0),  # local 01-06 00:05
    ("p", utc("2026-01-06T22:00:00"), 120, 100.0),  # local 01-07 00:00
    ("p", utc("2026-01-07T22:14:59"), 120, 200.0),  # local 01-08 00:14:59
    ("p", utc("2026-01-08T22:10:00"), 120, 120.0),  # local 01-09 00:10
    # Local 00:15 and 00:29:59: slot 1.
    ("p", utc("2026-01-06T22:15:00"), 120, 90.0),
    ("p", utc("2026-01-07T22:29:59"), 120, 60.0),
    # Local 23:50 on 01-05 (21:50 UTC): slot 95, just before local midnight.
    ("p", utc("2026-01-05T21:50:00"), 120, 80.0),
    # q at UTC: its own slot 0 must not mix with p's; 10:29 is slot 41.
    ("q", utc("2026-01-06T00:07:00"), 0, 300.0),
    ("q", utc("2026-01-06T10:29:00"), 0, 175.0),
]


@pytest.fixture(scope="module")
def hand() -> dict[tuple[str, int], dict[str, Any]]:
    return run_mart(HAND_READINGS)


def test_one_row_per_patient_and_local_slot(hand: dict[tuple[str, int], dict[str, Any]]) -> None:
    assert list(hand) == [("p", 0), ("p", 1), ("p", 95), ("q", 0), ("q", 41)]
    assert [row["slot_start"] for row in hand.values()] == [
        "00:00",
        "00:15",
        "23:45",
        "00:00",
        "10:15",
    ]
    assert [row["n_readings"] for row in hand.values()] == [4, 2, 1, 1, 1]


def test_type_7_percentiles_by_hand(hand: dict[tuple[str, int], dict[str, Any]]) -> None:
    # Slot 0 of p: sorted 100, 120, 140, 200; h = 3p.
    #   p05: h 0.15 -> 100 + 0.15 * 20 = 103     p25: h 0.75 -> 100 + 0.75 * 20 = 115
    #   p50: h 1.5  -> 120 + 0.5 * 20  = 130     p75: h 2.25 -> 140 + 0.25 * 60 = 155
    #   p95: h 2.85 -> 140 + 0.85 * 60 = 191
    row = hand[("p", 0)]
    expected = {"p05": 103.0, "p25": 115.0, "p50": 130.0, "p75": 155.0, "p95": 191.0}
    assert {k: row[k] for k in PERCENTILES} == pytest.approx(expected, abs=1e-9)


def test_two_readings_interpolate_linearly(hand: dict[tuple[str, int], dict[str, Any]]) -> None:
    # Slot 1 of p: 60, 90; h = p, so Q(p) = 60 + 30p.
    row = hand[("p", 1)]
    expected = {"p05": 61.5, "p25": 67.5, "p50": 75.0, "p75": 82.5, "p95": 88.5}
    assert {k: row[k] for k in PERCENTILES} == pytest.approx(expected, abs=1e-9)


def test_one_reading_is_every_percentile(hand: dict[tuple[str, int], dict[str, Any]]) -> None:
    assert {k: hand[("p", 95)][k] for k in PERCENTILES} == dict.fromkeys(PERCENTILES, 80.0)
    assert {k: hand[("q", 0)][k] for k in PERCENTILES} == dict.fromkeys(PERCENTILES, 300.0)
    assert {k: hand[("q", 41)][k] for k in PERCENTILES} == dict.fromkeys(PERCENTILES, 175.0)


def test_matches_numpy_linear_percentiles() -> None:
    rng = np.random.default_rng(19)
    start = utc("2026-02-01T00:00:00")
    readings: list[Reading] = []
    # Dense, sparse (many 1- and 2-reading slots) and integer-valued (ties) patients.
    for patient, offset, count, integer in (
        ("dense", 60, 4000, False),
        ("sparse", -330, 150, False),
        ("ties", 545, 1500, True),
    ):
        seconds = rng.choice(14 * 86400, size=count, replace=False)
        glucose = rng.normal(150.0, 50.0, size=count).clip(40.0, 400.0)
        if integer:
            glucose = np.round(glucose)
        readings += [
            (patient, start + timedelta(seconds=int(s)), offset, float(g))
            for s, g in zip(seconds, glucose, strict=True)
        ]
    rows = run_mart(readings)

    expected: dict[tuple[str, int], list[float]] = {}
    for patient, measured, offset, glucose in readings:
        local = measured + timedelta(minutes=offset)
        slot = local.hour * 4 + local.minute // 15
        expected.setdefault((patient, slot), []).append(glucose)
    assert sorted(rows) == sorted(expected)
    assert any(len(v) == 1 for v in expected.values())
    assert any(len(v) == 2 for v in expected.values())
    for key, values in expected.items():
        row = rows[key]
        assert row["n_readings"] == len(values)
        hour, quarter = divmod(key[1], 4)
        assert row["slot_start"] == f"{hour:02d}:{15 * quarter:02d}"
        want = np.percentile(values, list(PERCENTILES.values()), method="linear")
        got = [row[k] for k in PERCENTILES]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=str(key))
