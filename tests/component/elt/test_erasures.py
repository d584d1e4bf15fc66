"""Erased readings (a Nightscout DELETE of entries, raw_erasures) through a whole pipeline run:
curated leaves out every copy produced at or before the erasure, a later upload counts again,
the data-quality gate reconciles, and a day whose readings were all erased loses its metrics."""

from __future__ import annotations

from dataclasses import replace

import duckdb

from glucosestream.local.pipeline_runner import run_pipeline
from glucosestream.settings import Settings
from tests.component.elt.rawdata import MINUTE_MS, day_of_readings, ms, write_erasures, write_raw


def curated(settings: Settings) -> list[tuple[str, int, int]]:
    """(dt, measured_at as epoch ms, glucose) of every curated reading, oldest first."""
    return duckdb.sql(
        "SELECT dt, epoch_ms(measured_at), glucose_mg_dl FROM read_parquet("
        f"'{settings.lake_dir}/curated/readings/**/*.parquet', hive_partitioning = true) "
        "ORDER BY measured_at"
    ).fetchall()


def daily_days(settings: Settings) -> list[str]:
    return [
        row[0]
        for row in duckdb.sql(
            "SELECT DISTINCT local_day FROM read_parquet("
            f"'{settings.lake_dir}/marts/patient_daily_metrics/**/*.parquet', "
            "hive_partitioning = true) ORDER BY 1"
        ).fetchall()
    ]


def test_erased_readings_leave_curated_and_the_marts_and_an_upload_after_counts_again(
    settings: Settings,
) -> None:
    first, second = day_of_readings("p1", "2024-03-01"), day_of_readings("p1", "2024-03-02")
    write_raw(settings, "a", first + second)
    assert run_pipeline(settings).execution.status == "SUCCEEDED"
    assert len(curated(settings)) == 48
    assert len(daily_days(settings)) == 2

    erased_at = ms("2024-03-03T09:00")
    # Two readings of the first day, and every reading of the second day.
    write_erasures(settings, "x", [first[0], first[1], *second], erased_at)
    # The first one uploaded again after the erasure (a backfill): it counts again.
    reuploaded = replace(first[0], produced_at=erased_at + MINUTE_MS, glucose_mg_dl=131)
    write_raw(settings, "b", [reuploaded])
    run = run_pipeline(settings)
    assert run.execution.status == "SUCCEEDED", run.execution.cause  # the gate reconciles
    rows = curated(settings)
    assert len(rows) == 23
    assert rows[0][1:] == (reuploaded.measured_at, 131)
    assert first[1].measured_at not in {measured for _, measured, _ in rows}
    assert {str(dt) for dt, _, _ in rows} == {"2024-03-01"}
    assert len(daily_days(settings)) == 1  # the erased day's metrics are gone too
