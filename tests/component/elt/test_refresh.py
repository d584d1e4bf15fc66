"""The incremental ELT over a hand-made raw zone (glucosestream.elt.refresh)."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from glucosestream.elt.refresh import run_elt
from glucosestream.elt.tables import CURATED
from glucosestream.local.athena import LocalAthena
from glucosestream.local.lake import local_lake, table_location
from glucosestream.reports.metrics import metrics_of_table
from glucosestream.settings import Settings
from tests.component.elt.rawdata import MINUTE_MS, Raw, ms, write_raw


def rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    """Every row of a lake table (partition columns included), sorted."""
    location = table_location(settings, table)
    if not any(location.rglob("*.parquet")):
        return []
    relation = duckdb.connect().sql(
        f"SELECT * FROM read_parquet('{location}/**/*.parquet', hive_partitioning = true)"
    )
    found = relation.to_arrow_table().to_pylist()
    return sorted(found, key=lambda r: tuple(str(v) for v in r.values()))


def rounded(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Floats to 12 significant digits (DuckDB's parallel aggregates may differ in the last
    ulp); NaN (an undefined grid metric) as None, so that equal rows compare equal."""

    def cell(value: Any) -> Any:
        if isinstance(value, float):
            return None if math.isnan(value) else float(f"{value:.12g}")
        return value

    return [{k: cell(v) for k, v in row.items()} for row in found]


def files(settings: Settings, table: str) -> set[Path]:
    return set(table_location(settings, table).rglob("*.parquet"))


def series(
    patient: str, start: str, values: list[int], offset: int = 0, step: int = 5
) -> list[Raw]:
    first = ms(start)
    return [
        Raw(patient, first + i * step * MINUTE_MS, value, utc_offset_minutes=offset)
        for i, value in enumerate(values)
    ]


def test_dedupe_keeps_the_earliest_produced_copy(settings: Settings) -> None:
    at = ms("2024-03-01T10:00")
    # The later-produced copy comes first in the file and in its own file too.
    write_raw(
        settings,
        "a",
        [Raw("p1", at, 150, produced_at=at + 60_000), Raw("p1", at, 120, produced_at=at + 5_000)],
    )
    write_raw(settings, "b", [Raw("p1", at, 180, produced_at=at + 90_000)])
    report = run_elt(local_lake(settings))
    curated = rows(settings, CURATED)
    assert [(r["glucose_mg_dl"], r["copies"]) for r in curated] == [(120, 3)]
    assert report.raw_rows == 3
    assert report.curated_rows == 1


def test_curated_rows_are_the_distinct_identities_of_raw(settings: Settings) -> None:
    base = series("p1", "2024-03-01T22:00", [100] * 36)  # 3 h over two UTC days
    other_device = [Raw("p1", r.measured_at, 90, device_id="d2") for r in base[:5]]
    write_raw(settings, "a", base + other_device)
    write_raw(settings, "b", base[10:20] + other_device[:2])  # redelivered copies
    report = run_elt(local_lake(settings))
    assert report.curated_rows == 36 + 5
    assert len(rows(settings, CURATED)) == 41
    assert report.curated_partitions == ["2024-03-01", "2024-03-02"]


def test_late_reading_rebuilds_only_its_event_time_partition(settings: Settings) -> None:
    write_raw(settings, "a", series("p1", "2024-03-01T12:00", [100] * 12))
    write_raw(settings, "b", series("p1", "2024-03-02T12:00", [110] * 12))
    run_elt(local_lake(settings))
    before_other_day = {p for p in files(settings, CURATED) if "dt=2024-03-02" in str(p)}
    late = Raw("p1", ms("2024-03-01T13:30"), 55, produced_at=ms("2024-03-02T13:00"))
    write_raw(settings, "late", [late])
    report = run_elt(local_lake(settings))
    assert report.curated_partitions == ["2024-03-01"]
    assert report.raw_files_new == 1
    assert report.daily_days == ["2024-03-01"]
    assert {p for p in files(settings, CURATED) if "dt=2024-03-02" in str(p)} == before_other_day
    day_one = [r for r in rows(settings, CURATED) if r["dt"] == date(2024, 3, 1)]
    assert len(day_one) == 13
    assert min(r["glucose_mg_dl"] for r in day_one) == 55
    # The daily mart of that day now counts the late reading (55 < 70: TBR70 = 1/13).
    daily = [
        r for r in rows(settings, "patient_daily_metrics") if r["local_day"] == date(2024, 3, 1)
    ]
    assert daily[0]["n_readings"] == 13
    assert daily[0]["tbr_70"] == pytest.approx(100 / 13)


def test_second_run_without_new_raw_data_touches_nothing(settings: Settings) -> None:
    write_raw(settings, "a", series("p1", "2024-03-01T12:00", [100] * 12))
    run_elt(local_lake(settings))
    lake_files = {p: p.stat().st_mtime_ns for p in settings.lake_dir.rglob("*.parquet")}
    report = run_elt(local_lake(settings))
    assert not report.touched_anything
    assert report.curated_rows == 0
    assert {p: p.stat().st_mtime_ns for p in settings.lake_dir.rglob("*.parquet")} == lake_files


def test_rerun_is_idempotent(settings: Settings) -> None:
    write_raw(
        settings,
        "a",
        series("p1", "2024-03-01T20:00", [60, 65, 50, 45, 52, 70, 90, 120] * 20, offset=-300),
    )
    write_raw(
        settings,
        "b",
        series("p2", "2024-03-02T01:00", [190, 200, 260, 270, 255, 180] * 20, offset=60),
    )
    tables = (
        CURATED,
        "patient_daily_metrics",
        "patient_period_metrics",
        "agp_profile",
        "glycemic_episodes",
    )
    first = run_elt(local_lake(settings), date(2024, 3, 2))
    before = {table: rounded(rows(settings, table)) for table in tables}
    again = run_elt(local_lake(settings), date(2024, 3, 2), full_refresh=True)
    after = {table: rounded(rows(settings, table)) for table in tables}
    assert after == before
    assert list(again.step_seconds) == [
        "plan", "curate", "marts", "grid_stage", "grid_metrics", "period_marts", "commit"
    ]  # fmt: skip
    same = {"raw_files_new": again.raw_files_new, "step_seconds": again.step_seconds}
    assert again.as_dict() == {**first.as_dict(), **same}  # what it did; not how long it took
    assert all(before[table] for table in tables)  # every table has rows to compare
    identities = [(r["patient_id"], r["device_id"], r["measured_at"]) for r in after[CURATED]]
    assert len(identities) == len(set(identities)) == 160 + 120


def test_local_day_crosses_utc_partitions_and_warmup_is_flagged_not_measured(
    settings: Settings,
) -> None:
    # UTC+2: 22:30 and 23:30 UTC on 1 March are 00:30 and 01:30 local on 2 March.
    readings = [
        Raw("p1", ms("2024-03-01T21:30"), 50, utc_offset_minutes=120),  # local 23:30 on 1 March
        Raw("p1", ms("2024-03-01T22:30"), 100, utc_offset_minutes=120),
        Raw("p1", ms("2024-03-01T23:30"), 200, utc_offset_minutes=120),
        Raw("p1", ms("2024-03-02T00:30"), 300, utc_offset_minutes=120, status="WARMUP"),
    ]
    write_raw(settings, "a", readings)
    report = run_elt(local_lake(settings), date(2024, 3, 2))
    assert report.curated_partitions == ["2024-03-01", "2024-03-02"]
    curated = rows(settings, CURATED)
    assert [r["is_warmup"] for r in curated] == [False, False, False, True]
    daily = {r["local_day"]: r for r in rows(settings, "patient_daily_metrics")}
    assert set(daily) == {date(2024, 3, 1), date(2024, 3, 2)}
    second = daily[date(2024, 3, 2)]
    assert second["n_readings"] == 2  # 100 and 200; the warm-up 300 is not measured
    assert second["mean"] == pytest.approx(150.0)
    assert second["sd"] == pytest.approx(math.sqrt(5000.0))  # sample SD of 100, 200
    assert second["tir_70_180"] == pytest.approx(50.0)
    assert second["tar_180"] == pytest.approx(50.0)
    assert daily[date(2024, 3, 1)]["tbr_54"] == pytest.approx(100.0)


def _csv_metrics_input(readings: list[Raw]) -> pa.Table:
    """The same readings as `glucosestream metrics` stages them (metrics_report.readings_table)."""
    measured = np.array([r.measured_at for r in readings], dtype=np.int64)
    offsets = np.array([r.utc_offset_minutes for r in readings], dtype=np.int64)
    return pa.table(
        {
            "patient_id": pa.array([r.patient_id for r in readings], pa.string()),
            "device_id": pa.array([r.device_id for r in readings], pa.string()),
            "measured_at": pa.array(measured, pa.timestamp("ms", tz="UTC")),
            "local_time": pa.array(measured + offsets * MINUTE_MS, pa.timestamp("ms")),
            "glucose_mg_dl": pa.array([float(r.glucose_mg_dl) for r in readings], pa.float64()),
            "input_row": pa.array(np.arange(len(readings)), pa.int64()),
        }
    )


def test_period_marts_equal_glucosestream_metrics(settings: Settings) -> None:
    rng = np.random.default_rng(7)
    p1 = series(
        "p1", "2024-03-05T00:00", [int(v) for v in rng.integers(45, 300, 288 * 3)], offset=60
    )
    p2 = series(
        "p2",
        "2024-03-06T00:00",
        [int(v) for v in rng.integers(60, 200, 96 * 2)],
        offset=-240,
        step=15,
    )
    # Outside the 14-day window ending 2024-03-08 (local days 2024-02-24 .. 2024-03-08).
    old = series("p1", "2024-02-20T00:00", [100] * 10, offset=60)
    write_raw(settings, "a", p1 + p2 + old)
    run_elt(local_lake(settings), date(2024, 3, 8))
    expected = {
        m.pop("id"): m for m in metrics_of_table(LocalAthena(), _csv_metrics_input(p1 + p2))
    }
    marts = {r.pop("patient_id"): r for r in rows(settings, "patient_period_metrics")}
    assert set(marts) == set(expected) == {"p1", "p2"}
    for patient, metrics in expected.items():
        mart = marts[patient]
        assert mart["period_end"] == date(2024, 3, 8)
        assert mart["period_start"] == date(2024, 2, 24)
        for column, value in metrics.items():
            assert mart[column] == pytest.approx(value, nan_ok=True), column
    assert marts["p2"]["n_readings"] == 192


def test_agp_and_episodes_of_a_hand_case(settings: Settings) -> None:
    # 30 min at 60 (7 readings at 5-min cadence) between hours at 120: one level-1 hypo episode.
    values = [120] * 12 + [60] * 7 + [120] * 12
    write_raw(settings, "a", series("p1", "2024-03-01T08:00", values))
    run_elt(local_lake(settings), date(2024, 3, 1))
    episodes = rows(settings, "glycemic_episodes")
    assert [(e["type"], e["level"]) for e in episodes] == [("hypo", "lv1")]
    episode = episodes[0]
    assert episode["start_local"] == datetime(2024, 3, 1, 9, 0, tzinfo=None)
    assert episode["extreme_mg_dl"] == pytest.approx(60.0)
    agp = {r["slot"]: r for r in rows(settings, "agp_profile")}
    # Slot 36 = 09:00-09:15 holds 60, 60, 60 (09:00, 09:05, 09:10).
    assert agp[36]["slot_start"] == "09:00"
    assert agp[36]["n_readings"] == 3
    assert agp[36]["p50"] == pytest.approx(60.0)
    # Slot 38 = 09:30-09:45 holds 60 (09:30, the last low reading), 120 and 120.
    assert agp[38]["n_readings"] == 3
    assert agp[38]["p05"] == pytest.approx(60 + 0.1 * 60)  # (n-1)*5% = 0.1 between 60 and 120


def test_a_killed_runs_leftovers_are_removed_when_old(settings: Settings) -> None:
    import os

    from glucosestream.local.lake import LEFTOVER_AGE_S, remove_leftovers

    location = table_location(settings, CURATED)
    old = location / ".staging-dead"
    young = location / ".trash-busy"
    for directory in (old, young):
        (directory / "dt=2024-03-01").mkdir(parents=True)
    past = os.stat(old).st_mtime - LEFTOVER_AGE_S - 60
    os.utime(old, (past, past))
    assert remove_leftovers(settings) == [old]
    assert not old.exists()
    assert young.exists()  # may belong to a run still going
