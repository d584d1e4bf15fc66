"""An in-memory stream, a clock, and a worker over them; what the worker left in the lake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from glucosestream.adapters.kinesis import StreamRecord
from glucosestream.contract.codec import CodecError, default_codec
from glucosestream.domain.reading import GlucoseReading
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.settings import Settings
from tests.factories import START_MS

HOUR_MS = 3_600_000
NOW_S = (START_MS + 30 * 24 * HOUR_MS) / 1000  # the clock reads 2026-02-04: data arrives "late"


class FakeStream:
    """Shards as lists; an iterator is '<shard>|<next index>'; pages of ``page`` records."""

    name = "readings"

    def __init__(self, shards: int = 1, page: int = 10_000) -> None:
        self.records: dict[str, list[StreamRecord]] = {
            f"shardId-{i:012d}": [] for i in range(shards)
        }
        self.page = page

    def put(self, data: bytes, partition_key: str, arrival_ms: int = START_MS) -> StreamRecord:
        shard_ids = list(self.records)
        shard_id = shard_ids[sum(partition_key.encode()) % len(shard_ids)]
        shard = self.records[shard_id]
        record = StreamRecord(shard_id, f"{len(shard) + 1:030d}", partition_key, data, arrival_ms)
        shard.append(record)
        return record

    def put_readings(self, readings: list[GlucoseReading], arrival_ms: int = START_MS) -> None:
        for r in readings:
            self.put(default_codec().encode(r.to_record()), r.patient_id, arrival_ms)

    def shard_ids(self) -> list[str]:
        return list(self.records)

    def shard_lineage(self) -> dict[str, tuple[str, ...]]:
        return dict.fromkeys(self.records, ())

    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str:
        index = 0 if after_sequence is None else int(after_sequence)
        return f"{shard_id}|{len(self.records[shard_id]) if latest else index}"

    def get_records(
        self, shard_id: str, iterator: str, limit: int = 10_000
    ) -> tuple[list[StreamRecord], str | None, int]:
        start = int(iterator.split("|")[1])
        page = self.records[shard_id][start : start + min(limit, self.page)]
        return page, f"{shard_id}|{start + len(page)}", 0


class Clock:
    def __init__(self, now: float = NOW_S) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def worker(
    settings: Settings, stream: FakeStream, clock: Clock | None = None, **options: Any
) -> FirehoseWorker:
    values: dict[str, Any] = {"buffer_bytes": 1 << 20, "buffer_seconds": 60}
    values.update(options)
    return FirehoseWorker(
        settings, stream=stream, clock=clock or Clock(), sleep=lambda _: None, **values
    )


def pump(w: FirehoseWorker, stream: FakeStream) -> None:
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


def event_ids_in(record: StreamRecord) -> list[str]:
    try:
        return [default_codec().decode(record.data)["event_id"]]
    except CodecError:  # the garbage record: no reading, no event id
        return []
