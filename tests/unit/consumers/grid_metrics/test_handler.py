"""The grid-metrics Lambda: batches of chunk files in, per-chunk metrics and episodes out."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from consumers.grid_metrics import handler
from glucosestream.elt.grid_batch import GridBatchError
from glucosestream.elt.grid_metrics import IGLU_MART_COLUMNS, grid_tables
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.settings import load_settings
from tests.factories import cohort_period_readings

START, END = date(2026, 1, 5), date(2026, 1, 18)
INPUT = "work/grid/run-7/input/"
OUTPUT = "work/grid/run-7/output/"
FOLDERS = {
    "grid_metrics": f"{OUTPUT}m/run_id=run-7/",
    "episodes": f"{OUTPUT}e/run_id=run-7/",
    "iglu": f"{OUTPUT}i/run_id=run-7/",
}


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return cohort_period_readings(patients=9, days=14, seed=5)


def stage(lake: LocalLakeStorage, cohort: pa.Table) -> list[str]:
    """The run's staging prefix: 3 chunks of 3 patients; chunk 1's readings in two files that
    split a patient (as Athena may write a partition)."""
    patients = sorted(set(cohort.column("patient_id").to_pylist()))
    keys = []
    for number in range(3):
        part = cohort.filter(
            pc.is_in(cohort.column("patient_id"), pa.array(patients[number * 3 : number * 3 + 3]))
        )
        pieces = (
            [part.slice(0, part.num_rows // 2), part.slice(part.num_rows // 2)]
            if number == 1
            else [part]
        )
        for index, piece in enumerate(pieces):
            key = f"{INPUT}chunk={number:05d}/{index:03d}_part.parquet"
            sink = io.BytesIO()
            pq.write_table(piece, sink)
            lake.write_bytes(key, sink.getvalue())
            keys.append(key)
    return keys


def event(keys: list[str]) -> dict[str, Any]:
    return {
        "Items": [{"Key": key, "Size": 1} for key in keys],
        "BatchInput": {
            "metrics_prefix": FOLDERS["grid_metrics"],
            "episodes_prefix": FOLDERS["episodes"],
            "iglu_prefix": FOLDERS["iglu"],
            "period_start": "2026-01-05",
            "period_end": "2026-01-18",
        },
    }


def read_outputs(lake: LocalLakeStorage, folder: str) -> pa.Table:
    tables = [pq.read_table(io.BytesIO(lake.read_bytes(o.key))) for o in lake.list(FOLDERS[folder])]
    return pa.concat_tables(tables)


def test_batches_write_each_chunk_once_and_equal_the_whole(
    tmp_path: Path, cohort: pa.Table
) -> None:
    lake = LocalLakeStorage(tmp_path / "lake", "gs-dev-lake")
    keys = stage(lake, cohort)
    assert len(keys) == 4
    # The two files of chunk 1 fall into different batches.
    reports = [handler.handle(event(keys[:2]), lake), handler.handle(event(keys[2:]), lake)]
    assert reports[0]["chunks"] == ["chunk-00000", "chunk-00001"]
    assert reports[1]["chunks"] == ["chunk-00002"]
    assert reports[1]["covered"] == 1  # chunk 1's second file: computed with the first
    assert sum(r["patients"] for r in reports) == 9
    assert [o.key for o in lake.list(OUTPUT)] == [
        f"{FOLDERS[folder]}chunk-0000{n}.parquet"
        for folder in ("episodes", "iglu", "grid_metrics")
        for n in range(3)
    ]

    whole = grid_tables(cohort, START, END)
    assert read_outputs(lake, "grid_metrics").sort_by("patient_id").equals(whole.metrics)
    episodes = read_outputs(lake, "episodes")
    assert episodes.num_rows == whole.episodes.num_rows == sum(r["episodes"] for r in reports)
    order = [("patient_id", "ascending"), ("start_local", "ascending"), ("level", "ascending")]
    assert episodes.sort_by(order).equals(whole.episodes.sort_by(order))
    iglu = read_outputs(lake, "iglu")
    by_metric = [("patient_id", "ascending"), ("metric", "ascending")]
    assert iglu.num_rows == 9 * len(IGLU_MART_COLUMNS)
    assert iglu.sort_by(by_metric).equals(whole.iglu.sort_by(by_metric))


def test_a_retried_batch_overwrites_with_the_same_bytes(tmp_path: Path, cohort: pa.Table) -> None:
    lake = LocalLakeStorage(tmp_path / "lake", "gs-dev-lake")
    keys = stage(lake, cohort)
    handler.handle(event(keys), lake)
    first = {o.key: lake.read_bytes(o.key) for o in lake.list(OUTPUT)}
    again = handler.handle(event(keys), lake)
    assert again["chunks"] == ["chunk-00000", "chunk-00001", "chunk-00002"]
    assert {o.key: lake.read_bytes(o.key) for o in lake.list(OUTPUT)} == first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("Items"), "no Items"),
        (lambda e: e["Items"].append({"Size": 3}), "an item has no Key"),
        (lambda e: e["BatchInput"].update(metrics_prefix="work/out"), "ending in '/'"),
        (lambda e: e["BatchInput"].pop("episodes_prefix"), "episodes_prefix must be a key"),
        (
            lambda e: e["BatchInput"].update(episodes_prefix=e["BatchInput"]["metrics_prefix"]),
            "must differ",
        ),
        (lambda e: e["BatchInput"].pop("iglu_prefix"), "iglu_prefix must be a key"),
        (
            lambda e: e["BatchInput"].update(iglu_prefix=e["BatchInput"]["episodes_prefix"]),
            "must differ",
        ),
        (lambda e: e["BatchInput"].update(period_end="18/01/2026"), "period_end must be a date"),
        (lambda e: e["BatchInput"].update(period_start="2026-02-01"), "is after period_end"),
        (lambda e: e["Items"].append({"Key": "work/grid/flat.parquet"}), "not a file in a chunk="),
    ],
)
def test_bad_events_are_named(tmp_path: Path, change: Any, message: str) -> None:
    lake = LocalLakeStorage(tmp_path / "lake", "gs-dev-lake")
    bad = event([f"{INPUT}chunk=00000/000_part.parquet"])
    change(bad)
    with pytest.raises(GridBatchError, match=message):
        handler.handle(bad, lake)


def test_a_vanished_input_is_named(tmp_path: Path) -> None:
    lake = LocalLakeStorage(tmp_path / "lake", "gs-dev-lake")
    with pytest.raises(
        FileNotFoundError, match="s3://gs-dev-lake/work/grid/run-7/input/chunk=00004/"
    ):
        handler.handle(event([f"{INPUT}chunk=00004/000_part.parquet"]), lake)


def test_the_composition_root_picks_the_lake_by_mode(tmp_path: Path) -> None:
    local = handler.build_lake(load_settings(state_dir=tmp_path))
    assert isinstance(local, LocalLakeStorage)
    assert local.root == tmp_path / "lake"
    aws = handler.build_lake(load_settings(mode="aws", pseudonym_key="k" * 32, region="eu-west-1"))
    assert type(aws).__name__ == "S3LakeStorage"
    assert aws.uri("marts/x") == "s3://gs-dev-lake/marts/x"
