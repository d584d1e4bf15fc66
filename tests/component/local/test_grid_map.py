"""The grid-metrics Distributed Map fragment, run by the local ASL interpreter over a lake
directory: the same values as the grid metrics of the whole cohort in one process."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from glucosestream.elt.grid_metrics import grid_tables
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.local.grid_map import bindings, fragment
from glucosestream.local.stepfunctions import StateMachine
from glucosestream.settings import load_settings
from tests.factories import cohort_period_readings

GRID = {
    "input_prefix": "work/grid/r1/input/",
    "metrics_prefix": "work/grid/r1/output/grid_metrics_staging/run_id=r1/",
    "episodes_prefix": "work/grid/r1/output/grid_episodes_staging/run_id=r1/",
    "iglu_prefix": "work/grid/r1/output/grid_iglu_staging/run_id=r1/",
    "period_start": "2026-01-05",
    "period_end": "2026-01-18",
}


def test_the_fragment_computes_every_chunk(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    lake = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    cohort = cohort_period_readings(patients=8, days=14, seed=3)
    patients = sorted(set(cohort.column("patient_id").to_pylist()))
    for chunk in range(4):
        part = cohort.filter(pc.is_in(cohort.column("patient_id"), pa.array(patients[chunk::4])))
        sink = io.BytesIO()
        pq.write_table(part, sink)
        lake.write_bytes(f"{GRID['input_prefix']}chunk={chunk:03d}/0.parquet", sink.getvalue())
    machine = StateMachine(fragment(settings), bindings(settings, lake), max_map_concurrency=2)
    run = machine.execute({"grid": GRID})
    assert run.status == "SUCCEEDED", run.cause
    assert run.output == {"grid": GRID}  # ResultPath null: the outputs are in the lake
    started = next(e for e in run.history if e["type"] == "MapRunStarted")
    assert started["details"]["childExecutions"] == 4
    written = [o.key for o in lake.list(GRID["metrics_prefix"])]
    assert len(written) == 4
    metrics = pa.concat_tables(pq.read_table(io.BytesIO(lake.read_bytes(k))) for k in written)
    whole = grid_tables(cohort, date(2026, 1, 5), date(2026, 1, 18))
    assert metrics.sort_by("patient_id").equals(whole.metrics)
    written = [o.key for o in lake.list(GRID["iglu_prefix"])]
    iglu = pa.concat_tables(pq.read_table(io.BytesIO(lake.read_bytes(k))) for k in written)
    order = [("patient_id", "ascending"), ("metric", "ascending")]
    assert iglu.sort_by(order).equals(whole.iglu.sort_by(order))


def test_a_bad_chunk_fails_the_run_with_its_reason(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    lake = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    lake.write_bytes(f"{GRID['input_prefix']}chunk=000/0.parquet", b"not parquet")
    run = StateMachine(fragment(settings), bindings(settings, lake)).execute({"grid": GRID})
    assert run.status == "FAILED"
    assert run.error == "States.ExceedToleratedFailureThreshold"
    assert "ArrowInvalid" in (run.cause or "")
