"""Partition buffers are written when full or old enough."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from glucosestream.lake.raw_zone import reading_columns
from glucosestream.local.firehose import buffering
from glucosestream.local.firehose.bookkeeping import Source
from glucosestream.local.firehose.buffering import PartitionBuffers
from glucosestream.settings import Settings
from tests.factories import trace
from tests.unit.local.firehose.delivery import (
    Clock,
    FakeStream,
    pump,
    raw_files,
    worker,
)


def test_buffers_flush_by_size(settings: Settings) -> None:
    stream = FakeStream(page=5)
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
    clock = Clock()
    stream = FakeStream()
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


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def source(sequence: int) -> Source:
    return Source("shardId-000000000000", f"{sequence:030d}", 0, 1)


def test_beyond_the_memory_bound_the_biggest_buffers_are_due_first() -> None:
    buffers = PartitionBuffers("raw/", "errors/", Ticks())
    for hour, size in (("00", 10), ("01", 40), ("02", 30), ("03", 20)):
        buffers.add_raw("2026-01-05", hour, b"x" * size, source(int(hour)))
    hints = {"buffer_bytes": 1_000, "buffer_seconds": 900.0}
    assert buffers.due(force=False, max_buffered_bytes=100, **hints) == []
    assert buffers.due(force=False, max_buffered_bytes=50, **hints) == [
        ("raw", "2026-01-05", "01"),
        ("raw", "2026-01-05", "02"),
    ]
    taken = buffers.take(("raw", "2026-01-05", "01"))
    assert (taken.prefix, taken.size, buffers.buffered_bytes) == (
        "raw/dt=2026-01-05/hour=01/",
        40,
        60,
    )


def test_beyond_the_partition_limit_the_oldest_buffers_are_due_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buffering, "MAX_OPEN_BUFFERS", 2)
    buffers = PartitionBuffers("raw/", "errors/", Ticks())
    for hour in ("03", "01", "02"):
        buffers.add_raw("2026-01-05", hour, b"x", source(int(hour)))
    buffers.add_error("2026-01-05", "01", "processing-failed", b"{}\n", source(9))
    due = buffers.due(force=False, buffer_bytes=1_000, buffer_seconds=900.0, max_buffered_bytes=99)
    assert due == [("raw", "2026-01-05", "03"), ("raw", "2026-01-05", "01")]
    assert len(buffers) == 4
    assert buffers.take(("errors", "2026-01-05", "01", "processing-failed")).prefix == (
        "errors/dt=2026-01-05/hour=01/processing-failed/"
    )


def test_a_buffer_is_due_by_age_and_says_when() -> None:
    clock = Ticks()
    buffers = PartitionBuffers("raw/", "errors/", clock)
    buffers.add_raw("2026-01-05", "00", b"x", source(1))  # opened at 1
    assert buffers.until_due(5.0, buffer_seconds=10.0) == 6.0
    clock.now = 9.0  # due() reads 10: 9 s old
    hints = {"buffer_bytes": 1_000, "max_buffered_bytes": 1_000}
    assert buffers.due(force=False, buffer_seconds=10.0, **hints) == []
    assert buffers.due(force=False, buffer_seconds=10.0, **hints) == [("raw", "2026-01-05", "00")]
    assert buffers.due(force=True, buffer_seconds=900.0, **hints) == [("raw", "2026-01-05", "00")]
    assert PartitionBuffers("raw/", "errors/", clock).until_due(0.0, 10.0) == float("inf")
