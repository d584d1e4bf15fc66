"""The local Firehose worker against an in-memory stream: buffering, layout, schema, errors,
durability of checkpoints, restarts, and DuckDB partition pruning over what it writes."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import Entry
from glucosestream.contract.kpl import aggregate
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone import reading_columns
from glucosestream.lake.raw_zone.files import count_raw_zone
from glucosestream.lake.raw_zone.schema import glue_type_of_arrow
from glucosestream.local.esm import CheckpointStore
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.settings import Settings
from tests.factories import START_MS, patient, trace
from tests.support.clock import FakeClock
from tests.support.shards import FakeShards

HOUR_MS = 3_600_000
NOW_S = (START_MS + 30 * 24 * HOUR_MS) / 1000  # the clock reads 2026-02-04: data arrives "late"


def worker(
    settings: Settings, stream: FakeShards, clock: FakeClock | None = None, **options: Any
) -> FirehoseWorker:
    values: dict[str, Any] = {"buffer_bytes": 1 << 20, "buffer_seconds": 60}
    values.update(options)
    return FirehoseWorker(
        settings, stream=stream, clock=clock or FakeClock(NOW_S), sleep=lambda _: None, **values
    )


def pump(w: FirehoseWorker, stream: FakeShards) -> None:
    """Poll until a pass reads nothing (bounded: the fake stream is finite)."""
    total = sum(len(records) for records in stream.records.values())
    for _ in range(total + 10):
        if w.poll_once() == 0:
            return
    raise AssertionError("the worker did not reach the end of the stream")


def raw_files(settings: Settings) -> list[Path]:
    return sorted((settings.lake_dir / "raw/readings").rglob("*.parquet"))


def error_documents(settings: Settings) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted((settings.lake_dir / "errors/readings").rglob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def landed_event_ids(settings: Settings) -> list[str]:
    return [
        event_id
        for path in raw_files(settings)
        for event_id in pq.read_table(path).column("event_id").to_pylist()
    ]


def test_buffers_flush_by_size(settings: Settings) -> None:
    stream = FakeShards(page=5)
    stream.put_readings(trace(1, 40))  # 200 minutes: several hours, ~350 bytes of JSON each
    one_row = len(json.dumps({c.name: "x" * 8 for c in reading_columns()}))
    w = worker(settings, stream, buffer_bytes=8 * one_row, buffer_seconds=900)
    pump(w, stream)
    w.drain()
    assert w.stats.raw_files >= 3
    assert w.stats.rows_landed + w.buffered_bytes // one_row <= 40
    for path in raw_files(settings):
        # A buffer is written once it reaches the size: a page (5 rows) can overshoot it.
        assert 1 <= pq.read_metadata(path).num_rows <= 8 + 5
    assert w.open_buffers >= 1
    w.flush(force=True)
    assert w.stats.rows_landed == 40


def test_buffers_flush_by_time(settings: Settings) -> None:
    clock = FakeClock(NOW_S)
    stream = FakeShards()
    stream.put_readings(trace(1, 6))  # one hour partition
    w = worker(settings, stream, clock, buffer_seconds=30)
    pump(w, stream)
    clock.now += 29.9
    w.flush()
    w.drain()
    assert raw_files(settings) == []
    assert w.checkpoint("shardId-000000000000") is None
    clock.now += 0.1
    w.flush()
    w.drain()
    assert len(raw_files(settings)) == 1
    assert w.checkpoint("shardId-000000000000") == f"{6:030d}"


def test_partition_layout_and_file_schema_equal_the_glue_table(settings: Settings) -> None:
    stream = FakeShards(shards=2)
    readings = [r for n in range(4) for r in trace(n, 30)]  # 150 minutes: hours 00, 01, 02
    stream.put_readings(readings)
    w = worker(settings, stream)
    pump(w, stream)
    w.flush(force=True)
    by_hour: dict[str, int] = {}
    for path in raw_files(settings):
        relative = path.relative_to(settings.lake_dir).parts
        assert relative[:2] == ("raw", "readings")
        assert relative[2] == "dt=2026-01-05"
        schema = pq.read_schema(path)
        assert [(f.name, glue_type_of_arrow(f.type)) for f in schema] == [
            (c.name, c.glue_type) for c in reading_columns()
        ]
        table = pq.read_table(path)
        hours = {m.hour for m in table.column("measured_at").to_pylist()}
        assert {f"hour={h:02d}" for h in hours} == {relative[3]}
        by_hour[relative[3]] = by_hour.get(relative[3], 0) + table.num_rows
    expected: dict[str, int] = {}
    for r in readings:
        key = f"hour={(r.measured_at - START_MS) // HOUR_MS:02d}"
        expected[key] = expected.get(key, 0) + 1
    assert by_hour == expected
    assert sorted(landed_event_ids(settings)) == sorted(r.event_id for r in readings)


def test_late_readings_land_in_the_partition_of_their_event_time(settings: Settings) -> None:
    stream = FakeShards()
    late = trace(2, 2, start_ms=START_MS - 3 * 24 * HOUR_MS + 7 * HOUR_MS)
    stream.put_readings(late, arrival_ms=START_MS + 5 * HOUR_MS)
    w = worker(settings, stream)
    pump(w, stream)
    w.flush(force=True)
    (path,) = raw_files(settings)
    assert path.parent.relative_to(settings.lake_dir).as_posix() == (
        "raw/readings/dt=2026-01-02/hour=07"
    )
    ingested = pq.read_table(path).column("ingested_at").cast("int64").to_pylist()
    assert ingested == [START_MS + 5 * HOUR_MS] * 2


def test_poison_records_land_in_errors_by_arrival_with_their_raw_bytes(
    settings: Settings,
) -> None:
    stream = FakeShards()
    good = trace(3, 4)
    stream.put_readings(good[:2])
    garbage = b"\x00\x01 not a reading"
    stream.put(garbage, patient(3), arrival_ms=START_MS + 2 * HOUR_MS)
    broken_aggregate = next(iter(aggregate([(Entry(b"x", "k"), 0), (Entry(b"y", "k"), 1)])))[
        0
    ].data[:-3]
    stream.put(broken_aggregate, patient(3), arrival_ms=START_MS + 2 * HOUR_MS)
    stream.put_readings(good[2:])
    w = worker(settings, stream)
    pump(w, stream)
    w.flush(force=True)
    errors = error_documents(settings)
    assert [base64.b64decode(e["rawData"]) for e in errors] == [garbage, broken_aggregate]
    assert [e["errorKind"] for e in errors] == ["avro", "aggregate"]
    assert {e["errorCode"] for e in errors} == {"Lambda.ProcessingFailed"}
    assert [e["sequenceNumber"] for e in errors] == [f"{3:030d}", f"{4:030d}"]
    (error_dir,) = {p.parent for p in (settings.lake_dir / "errors").rglob("*.jsonl")}
    assert error_dir.relative_to(settings.lake_dir).as_posix() == (
        "errors/readings/dt=2026-01-05/hour=02/processing-failed"
    )
    counts = count_raw_zone(settings.lake_dir)
    assert (counts.raw_rows, counts.error_records) == (4, 2)
    assert w.checkpoint("shardId-000000000000") == f"{6:030d}"


def test_aggregated_records_are_deaggregated_before_the_transform(settings: Settings) -> None:
    stream = FakeShards()
    readings = trace(4, 30)  # spans three hours: one aggregate, readings in three partitions
    codec = default_codec()
    entries = [(Entry(codec.encode(r.to_record()), r.patient_id), r) for r in readings]
    for entry, _ in aggregate(entries):
        stream.put(entry.data, entry.partition_key)
    w = worker(settings, stream)
    pump(w, stream)
    w.flush(force=True)
    assert w.stats.records_read == 1
    assert w.stats.user_records == 30
    assert sorted(landed_event_ids(settings)) == sorted(r.event_id for r in readings)
    assert len({p.parent for p in raw_files(settings)}) == 3


def test_no_checkpoint_before_the_file_is_written_and_a_restart_loses_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = FakeShards()
    readings = trace(5, 20)
    stream.put_readings(readings)
    lake = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    real_write = lake.write_bytes
    calls = []

    def full_disk(key: str, data: bytes) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real_write(key, data)

    monkeypatch.setattr(lake, "write_bytes", full_disk)
    w = worker(settings, stream, lake=lake)
    pump(w, stream)
    with pytest.raises(OSError, match="No space"):
        w.flush(force=True)
    w.close()
    assert w.checkpoint("shardId-000000000000") is None
    restarted = worker(settings, stream)
    pump(restarted, stream)
    restarted.flush(force=True)
    assert set(landed_event_ids(settings)) == {r.event_id for r in readings}
    assert restarted.checkpoint("shardId-000000000000") == f"{20:030d}"


def test_a_crash_between_file_and_checkpoint_duplicates_but_never_loses(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = FakeShards()
    readings = trace(6, 12)
    stream.put_readings(readings)

    class Killed(BaseException):
        pass

    def killed(self: CheckpointStore, shard_id: str, sequence_number: str) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(CheckpointStore, "save", killed)
        w = worker(settings, stream)
        pump(w, stream)
        with pytest.raises(Killed):
            w.flush(force=True)
    assert w.checkpoint("shardId-000000000000") is None
    assert len(landed_event_ids(settings)) == 12
    stream.put_readings(trace(6, 14)[12:])
    restarted = worker(settings, stream)
    pump(restarted, stream)
    restarted.flush(force=True)
    ids = landed_event_ids(settings)
    assert len(ids) == 12 + 14  # at-least-once: the first 12 twice, staging dedupes them
    assert set(ids) == {r.event_id for r in trace(6, 14)}
    assert restarted.checkpoint("shardId-000000000000") == f"{14:030d}"


def test_a_restart_resumes_after_the_checkpoint(settings: Settings) -> None:
    stream = FakeShards()
    stream.put_readings(trace(7, 10))
    first = worker(settings, stream)
    pump(first, stream)
    first.flush(force=True)
    first.close()
    stream.put_readings(trace(7, 15)[10:])
    second = worker(settings, stream)
    pump(second, stream)
    second.flush(force=True)
    assert second.stats.records_read == 5
    assert sorted(landed_event_ids(settings)) == sorted(r.event_id for r in trace(7, 15))


def failing_transform(failures: int) -> Callable[[dict[str, Any], Any], Any]:
    from consumers.firehose_transform.handler import lambda_handler

    calls = {"n": 0}

    def transform(event: dict[str, Any], context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise TimeoutError("Task timed out after 60.00 seconds")
        return lambda_handler(event, context)

    return transform


def test_a_failing_transform_is_retried_then_its_records_go_to_errors(
    settings: Settings,
) -> None:
    stream = FakeShards()
    stream.put_readings(trace(8, 3))
    w = worker(settings, stream, transform=failing_transform(10**6), transform_retries=2)
    pump(w, stream)
    w.flush(force=True)
    assert w.stats.invocations == 3
    errors = error_documents(settings)
    assert [e["errorCode"] for e in errors] == ["Lambda.FunctionError"] * 3
    assert errors[0]["attemptsMade"] == 3
    assert "TimeoutError" in errors[0]["errorMessage"]
    assert w.checkpoint("shardId-000000000000") == f"{3:030d}"


def test_a_transform_that_recovers_on_retry_loses_nothing(settings: Settings) -> None:
    stream = FakeShards()
    stream.put_readings(trace(8, 3))
    w = worker(settings, stream, transform=failing_transform(1))
    pump(w, stream)
    w.flush(force=True)
    assert (w.stats.rows_landed, w.stats.errors_landed, w.stats.invocations) == (3, 0, 2)


def test_a_response_with_missing_record_ids_fails_the_invocation(settings: Settings) -> None:
    stream = FakeShards()
    stream.put_readings(trace(9, 2))

    def forgetful(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"records": [{"recordId": event["records"][0]["recordId"], "result": "Ok"}]}

    w = worker(settings, stream, transform=forgetful, transform_retries=0)
    pump(w, stream)
    w.flush(force=True)
    assert [e["errorCode"] for e in error_documents(settings)] == ["Lambda.FunctionError"] * 2
    assert w.stats.rows_landed == 0


def test_json_that_does_not_convert_goes_to_format_conversion_errors(
    settings: Settings,
) -> None:
    from consumers.firehose_transform.handler import lambda_handler

    stream = FakeShards()
    stream.put_readings(trace(10, 3))

    def sloppy(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = lambda_handler(event, context)
        output = response["records"][1]
        row = json.loads(base64.b64decode(output["data"]))
        row["glucose_mg_dl"] = "high"  # a string where Glue says int
        output["data"] = base64.b64encode(json.dumps(row).encode()).decode()
        return response

    w = worker(settings, stream, transform=sloppy)
    pump(w, stream)
    w.flush(force=True)
    (error,) = error_documents(settings)
    assert error["errorKind"] == "format"
    assert json.loads(base64.b64decode(error["rawData"]))["glucose_mg_dl"] == "high"
    assert w.stats.rows_landed == 2
    assert w.checkpoint("shardId-000000000000") == f"{3:030d}"
    assert (
        (settings.lake_dir / "errors/readings/dt=2026-01-05/hour=00")
        .joinpath("format-conversion-failed")
        .is_dir()
    )


def files_read(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    """Parquet files a query opened, from DuckDB's EXPLAIN ANALYZE."""
    plan = "".join(str(row[1]) for row in connection.execute(f"EXPLAIN ANALYZE {query}").fetchall())
    match = re.search(r"Total Files Read:\s*(\d+)", plan)
    assert match, plan
    return int(match[1])


def test_duckdb_reads_the_tree_with_hive_partitions_and_prunes_hours(settings: Settings) -> None:
    stream = FakeShards(shards=2, page=10)
    readings = [r for n in range(3) for r in trace(n, 48)]  # hours 00-03
    stream.put_readings(readings)
    w = worker(settings, stream, buffer_bytes=4_000)  # several files an hour
    pump(w, stream)
    w.flush(force=True)
    files = raw_files(settings)
    in_hour_2 = [p for p in files if "hour=02" in p.parts]
    assert 1 < len(in_hour_2) < len(files)
    tree = f"read_parquet('{settings.lake_dir}/raw/readings/**/*.parquet', hive_partitioning=true)"
    one_hour = f"SELECT count(*) FROM {tree} WHERE dt = '2026-01-05' AND hour = '02'"
    connection = duckdb.connect()
    assert files_read(connection, one_hour) == len(in_hour_2)
    assert files_read(connection, f"SELECT count(*) FROM {tree}") == len(files)
    # Hours 01 and 03 turned to garbage: the one-hour query never opens them.
    for path in files:
        if "hour=01" in path.parts or "hour=03" in path.parts:
            path.write_bytes(b"not parquet")
    (count,) = connection.execute(one_hour).fetchone() or (0,)
    assert count == sum(1 for r in readings if (r.measured_at - START_MS) // HOUR_MS == 2)
    with pytest.raises(duckdb.Error):
        connection.execute(f"SELECT count(*) FROM {tree}").fetchall()


@pytest.mark.parametrize(
    "options",
    [
        {"buffer_bytes": 0},
        {"buffer_seconds": 901},
        {"compression": "gzip"},
        {"transform_retries": -1},
        {"starting_position": "AT_TIMESTAMP"},
    ],
)
def test_settings_out_of_range_are_refused(settings: Settings, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        worker(settings, FakeShards(), **options)
