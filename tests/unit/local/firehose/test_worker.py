"""The worker over an in-memory stream: de-aggregation, durability of checkpoints, restarts,
and its settings."""

from __future__ import annotations

from typing import Any

import pytest

from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import Entry
from glucosestream.contract.kpl import aggregate
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.local.esm import CheckpointStore
from glucosestream.settings import Settings
from tests.factories import trace
from tests.unit.local.firehose.delivery import (
    FakeStream,
    landed_event_ids,
    pump,
    raw_files,
    worker,
)


def test_aggregated_records_are_deaggregated_before_the_transform(settings: Settings) -> None:
    stream = FakeStream()
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
    stream = FakeStream()
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
    stream = FakeStream()
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
    stream = FakeStream()
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
        worker(settings, FakeStream(), **options)
