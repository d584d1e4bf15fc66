"""Each output record to its partition: readings by event time, failures to the error
outputs by arrival time with their raw bytes."""

from __future__ import annotations

import base64

import pyarrow.parquet as pq

from glucosestream.contract.entries import Entry
from glucosestream.contract.kpl import aggregate
from glucosestream.lake.raw_zone.files import count_raw_zone
from glucosestream.settings import Settings
from tests.factories import START_MS, patient, trace
from tests.unit.local.firehose.delivery import (
    HOUR_MS,
    FakeStream,
    error_documents,
    pump,
    raw_files,
    worker,
)


def test_late_readings_land_in_the_partition_of_their_event_time(settings: Settings) -> None:
    stream = FakeStream()
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
    stream = FakeStream()
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
