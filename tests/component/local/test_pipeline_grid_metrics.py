"""The grid metrics in a pipeline run (sfn/pipeline.asl.json through the local runner): the
window's readings staged in chunks of patients, the Distributed Map's grid-metrics Lambda per
chunk, the period marts joined in SQL — equal, row for row, to the in-process computation of
the same readings (`glucosestream metrics` / `glucosestream episodes`)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from consumers.grid_metrics import handler as grid_handler
from glucosestream.domain.metrics.iglu_profile import NUMERIC_COLUMNS
from glucosestream.elt.grid_stage import GRID_WORK_PREFIX
from glucosestream.elt.plan import load_state
from glucosestream.elt.tables import (
    EPISODES,
    GRID_IGLU_STAGING,
    GRID_METRICS_STAGING,
    PERIOD,
    PERIOD_IGLU,
)
from glucosestream.ingest.files.readings_csv import CsvReading
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.local.athena import LocalAthena
from glucosestream.local.lake import table_location
from glucosestream.local.pipeline_runner import run_pipeline
from glucosestream.reports.episodes import patient_episodes
from glucosestream.reports.metrics import metrics_of_table, profile_of_table
from glucosestream.settings import Settings
from tests.component.elt.rawdata import MINUTE_MS, Raw, write_raw
from tests.factories import cohort_period_readings

PATIENTS = 7
PER_CHUNK = 2  # four chunks (hash buckets: their sizes vary, some may be empty)


pytestmark = pytest.mark.usefixtures("pipeline_handler_env")


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return cohort_period_readings(patients=PATIENTS, days=3, seed=21)


def raw_of(cohort: pa.Table) -> list[Raw]:
    """The cohort as raw-zone rows (one delivery each, produced when measured)."""
    measured = cohort.column("measured_at").cast(pa.int64()).to_pylist()
    local = cohort.column("local_time").cast(pa.int64()).to_pylist()
    return [
        Raw(p, at, round(g), utc_offset_minutes=(wall - at) // MINUTE_MS, device_id=d)
        for p, d, at, wall, g in zip(
            cohort.column("patient_id").to_pylist(),
            cohort.column("device_id").to_pylist(),
            measured,
            local,
            cohort.column("glucose_mg_dl").to_pylist(),
            strict=True,
        )
    ]


def csv_rows(raw: list[Raw]) -> list[CsvReading]:
    return [
        CsvReading(r.patient_id, r.measured_at, float(r.glucose_mg_dl), r.utc_offset_minutes,
                   r.device_id)
        for r in raw
    ]  # fmt: skip


def run_date_of(raw: list[Raw]) -> date:
    last = max(r.measured_at + r.utc_offset_minutes * MINUTE_MS for r in raw)
    return wall_clock(last).date()


def wall_clock(naive_ms: int) -> datetime:
    """A naive epoch-ms instant (local wall clock) as a naive datetime."""
    return datetime.fromtimestamp(naive_ms / 1000, UTC).replace(tzinfo=None)


def rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    location = table_location(settings, table)
    if not any(location.rglob("*.parquet")):
        return []
    found = (
        duckdb.connect()
        .sql(f"SELECT * FROM read_parquet('{location}/**/*.parquet', hive_partitioning = true)")
        .to_arrow_table()
        .to_pylist()
    )
    return sorted(found, key=lambda r: tuple(str(v) for v in r.values()))


def cell(value: Any) -> Any:
    """12 significant digits (DuckDB's parallel aggregates may differ in the last ulp); NaN (an
    undefined grid metric) as None."""
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.12g}")
    return value


def table_files(settings: Settings, *tables: str) -> dict[str, bytes]:
    return {
        str(path): path.read_bytes()
        for table in tables
        for path in sorted(table_location(settings, table).rglob("*.parquet"))
    }


def test_the_period_marts_of_a_run_equal_the_in_process_metrics_and_episodes(
    settings: Settings, cohort: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[str] = []
    real = grid_handler.handle

    def recording(event: dict[str, Any], lake: Any) -> dict[str, Any]:
        report = real(event, lake)
        computed.extend(report["chunks"])
        return report

    monkeypatch.setattr(grid_handler, "handle", recording)
    raw = raw_of(cohort)
    write_raw(settings, "cohort", raw)
    end = run_date_of(raw)
    run = run_pipeline(settings, run_date=end, as_of=datetime(2100, 1, 1),
                       patients_per_chunk=PER_CHUNK)  # fmt: skip
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    output = run.execution.output
    grid = output["grid"]
    assert grid["patients"] == PATIENTS
    assert grid["chunks"] == 4
    assert len(computed) == len(set(computed)) >= 2  # the Map computed several chunks, once
    assert output["period"]["period_rows"] == PATIENTS

    expected = {
        m.pop("id"): m for m in metrics_of_table(LocalAthena(), _readings_table(raw), workers=1)
    }
    marts = {r.pop("patient_id"): r for r in rows(settings, PERIOD)}
    assert set(marts) == set(expected)
    for patient, metrics in expected.items():
        mart = marts[patient]
        assert mart["period_end"] == end
        assert {k: cell(mart[k]) for k in metrics} == {k: cell(v) for k, v in metrics.items()}

    found = [
        (e["patient_id"], e["type"], e["level"], e["start_local"], e["end_local"],
         e["duration_min"], cell(e["extreme_mg_dl"]), cell(e["mean_mg_dl"]), e["exclusive"])
        for e in rows(settings, EPISODES)
    ]  # fmt: skip
    wanted = [
        (p, e.kind, e.level, wall_clock(int(e.start_ms)), wall_clock(int(e.end_ms)),
         int(e.duration_min),
         cell(float(e.extreme_mg_dl)), cell(float(e.mean_mg_dl)), bool(e.exclusive))
        for p, e in patient_episodes(LocalAthena(), csv_rows(raw))
    ]  # fmt: skip
    assert found
    assert sorted(found) == sorted(wanted)

    # The iglu mart: every numeric column of `glucosestream metrics --profile iglu`, long.
    assert output["period"]["iglu_rows"] == PATIENTS * len(NUMERIC_COLUMNS)
    profiles = profile_of_table(LocalAthena(), _readings_table(raw), "iglu", workers=1)
    wanted_iglu = sorted(
        (row["id"], metric, cell(row[metric])) for row in profiles for metric in NUMERIC_COLUMNS
    )
    iglu_mart = rows(settings, PERIOD_IGLU)
    assert {r["period_end"] for r in iglu_mart} == {end}
    assert sorted((r["patient_id"], r["metric"], cell(r["value"])) for r in iglu_mart) == (
        wanted_iglu
    )
    # The run's work is gone: no staged chunk, no grid output, no staging-table partition.
    assert _listed(settings, GRID_WORK_PREFIX) == []
    assert rows(settings, GRID_METRICS_STAGING) == []
    assert rows(settings, GRID_IGLU_STAGING) == []


def test_a_failed_chunk_fails_the_run_into_notify_error_and_the_period_marts_stay(
    settings: Settings, cohort: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = raw_of(cohort)
    write_raw(settings, "cohort", raw)
    end = run_date_of(raw)
    first = run_pipeline(settings, run_date=end, as_of=datetime(2100, 1, 1),
                         patients_per_chunk=PER_CHUNK)  # fmt: skip
    assert first.execution.status == "SUCCEEDED", first.execution.cause
    before = table_files(settings, PERIOD, EPISODES)
    assert before
    storage = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    committed = load_state(storage)

    # New readings in the window; then one chunk's batch fails (after the Map's own retries).
    patient = raw[0].patient_id
    late = [Raw(patient, raw[-1].measured_at + n * 5 * MINUTE_MS, 110 + n) for n in range(1, 4)]
    write_raw(settings, "late", late)
    real = grid_handler.handle
    failed: list[str] = []

    def one_chunk_fails(event: dict[str, Any], lake: Any) -> dict[str, Any]:
        key = event["Items"][0]["Key"]
        if not failed or key.startswith(failed[0]):
            failed.append(key.rsplit("/", 1)[0])
            raise RuntimeError(f"out of memory computing {key}")
        return real(event, lake)

    monkeypatch.setattr(grid_handler, "handle", one_chunk_fails)
    second = run_pipeline(settings, run_date=end, as_of=datetime(2100, 1, 1),
                          patients_per_chunk=PER_CHUNK)  # fmt: skip
    assert second.execution.status == "FAILED"
    assert second.execution.error == "PipelineStepFailed"
    (notice,) = second.notifications
    assert notice["Subject"] == "GlucoseStream pipeline failed"
    assert "States.ExceedToleratedFailureThreshold" in notice["Message"]
    assert "out of memory" in notice["Message"]
    entered = [e["details"]["name"] for e in second.execution.history
               if e["type"].endswith("StateEntered")]  # fmt: skip
    assert "PeriodMarts" not in entered
    assert entered[-2:] == ["NotifyError", "Errored"]
    assert table_files(settings, PERIOD, EPISODES) == before  # untouched
    assert load_state(storage) == committed  # not committed: the next run redoes it

    monkeypatch.setattr(grid_handler, "handle", real)
    third = run_pipeline(settings, run_date=end, as_of=datetime(2100, 1, 1),
                         patients_per_chunk=PER_CHUNK)  # fmt: skip
    assert third.execution.status == "SUCCEEDED", third.execution.cause
    period = {r["patient_id"]: r for r in rows(settings, PERIOD)}
    assert period[patient]["n_readings"] == sum(r.patient_id == patient for r in raw) + 3


def _listed(settings: Settings, prefix: str) -> list[str]:
    storage = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    return [item.key for item in storage.list(prefix)]


def _readings_table(raw: list[Raw]) -> pa.Table:
    """The readings as `glucosestream metrics` stages them (metrics_report.readings_table)."""
    measured = np.array([r.measured_at for r in raw], dtype=np.int64)
    offsets = np.array([r.utc_offset_minutes for r in raw], dtype=np.int64)
    return pa.table(
        {
            "patient_id": pa.array([r.patient_id for r in raw], pa.string()),
            "device_id": pa.array([r.device_id for r in raw], pa.string()),
            "measured_at": pa.array(measured, pa.timestamp("ms", tz="UTC")),
            "local_time": pa.array(measured + offsets * MINUTE_MS, pa.timestamp("ms")),
            "glucose_mg_dl": pa.array([float(r.glucose_mg_dl) for r in raw], pa.float64()),
            "input_row": pa.array(np.arange(len(raw)), pa.int64()),
        }
    )
