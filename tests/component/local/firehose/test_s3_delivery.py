"""The local Firehose worker delivering into the lake bucket on S3 (moto, in-process): aws
mode, the AWS-mode rehearsal's stand-in."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone import reading_columns
from glucosestream.lake.raw_zone.schema import glue_type_of_arrow
from glucosestream.local import firehose
from glucosestream.local.esm import CheckpointStore
from glucosestream.settings import Settings, load_settings
from tests.factories import START_MS, patient, trace
from tests.unit.local.firehose.delivery import (
    HOUR_MS,
    FakeStream,
    event_ids_in,
    worker,
)
from tests.unit.local.firehose.test_writing import KEY_OF_A_RAW_OBJECT, KEY_OF_AN_ERROR_OBJECT


@pytest.fixture
def s3_lake(settings: Settings) -> Iterator[S3LakeStorage]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=settings.names.lake_bucket,
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        yield S3LakeStorage(client, settings.names.lake_bucket)


def test_delivers_into_the_lake_bucket_and_checkpoints_only_what_is_in_it(
    settings: Settings, s3_lake: S3LakeStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = FakeStream(shards=2, page=7)
    # Hours 00-03 of 2026-01-05, in time order as sensors send them: hours fill one by one.
    readings = sorted((r for n in range(4) for r in trace(n, 48)), key=lambda r: r.measured_at)
    stream.put_readings(readings)
    garbage = b"\x00\x01 not a reading"
    stream.put(garbage, patient(9), arrival_ms=START_MS + 2 * HOUR_MS)
    sequence_of = {
        event_id: (record.shard_id, int(record.sequence_number))
        for shard in stream.records.values()
        for record in shard
        for event_id in event_ids_in(record)
    }

    def landed_in_bucket() -> set[str]:
        ids: set[str] = set()
        for item in s3_lake.list("raw/readings/"):
            table = pq.read_table(io.BytesIO(s3_lake.read_bytes(item.key)), columns=["event_id"])
            ids.update(table.column("event_id").to_pylist())
        return ids

    saved: list[tuple[str, int]] = []
    real_save = CheckpointStore.save

    def save_after_checking(store: CheckpointStore, shard_id: str, sequence_number: str) -> None:
        covered = {
            event_id
            for event_id, (shard, number) in sequence_of.items()
            if shard == shard_id and number <= int(sequence_number)
        }
        missing = covered - landed_in_bucket()
        assert not missing, f"checkpoint {sequence_number} of {shard_id} before {missing}"
        saved.append((shard_id, int(sequence_number)))
        real_save(store, shard_id, sequence_number)

    monkeypatch.setattr(CheckpointStore, "save", save_after_checking)
    w = worker(settings, stream, buffer_bytes=6_000, lake=s3_lake)
    # Each pass waits for its objects, so checkpoints move between passes whatever the writer
    # threads' timing (pumping without waiting let every write finish after the last pass).
    for _ in range(sum(len(records) for records in stream.records.values()) + 10):
        read = w.poll_once()
        w.drain()
        if read == 0:
            break
    w.flush(force=True)
    w.close()

    raw_keys = [item.key for item in s3_lake.list("raw/readings/")]
    assert len(raw_keys) > 4  # several objects an hour: checkpoints had files to wait for
    rows_by_hour: dict[str, int] = {}
    landed: list[str] = []
    for key in raw_keys:
        match = KEY_OF_A_RAW_OBJECT.match(key)
        assert match, key
        table = pq.read_table(io.BytesIO(s3_lake.read_bytes(key)))
        assert [(f.name, glue_type_of_arrow(f.type)) for f in table.schema] == [
            (c.name, c.glue_type) for c in reading_columns()
        ]
        assert {m.hour for m in table.column("measured_at").to_pylist()} == {int(match[1])}
        rows_by_hour[match[1]] = rows_by_hour.get(match[1], 0) + table.num_rows
        landed.extend(table.column("event_id").to_pylist())
    expected: dict[str, int] = {}
    for r in readings:
        hour = f"{(r.measured_at - START_MS) // HOUR_MS:02d}"
        expected[hour] = expected.get(hour, 0) + 1
    assert rows_by_hour == expected
    assert sorted(landed) == sorted(r.event_id for r in readings)

    (error_key,) = [item.key for item in s3_lake.list("errors/readings/")]
    assert KEY_OF_AN_ERROR_OBJECT.match(error_key), error_key
    (error,) = [json.loads(line) for line in s3_lake.read_bytes(error_key).splitlines()]
    assert base64.b64decode(error["rawData"]) == garbage

    for shard_id in stream.records:  # each shard's checkpoint moved as objects landed
        assert len([number for shard, number in saved if shard == shard_id]) > 1
    for shard_id, records in stream.records.items():
        assert w.checkpoint(shard_id) == records[-1].sequence_number
    assert not (settings.lake_dir / "raw").exists()  # nothing went to the local directory


def test_aws_mode_delivers_to_the_lake_bucket_by_default(tmp_path: Path) -> None:
    aws = load_settings(state_dir=tmp_path, env="t", mode="aws", pseudonym_key="k" * 32)
    with mock_aws():
        lake = firehose.delivery_lake(aws)
        assert isinstance(lake, S3LakeStorage)
        assert lake.bucket == aws.names.lake_bucket
    local = firehose.delivery_lake(load_settings(state_dir=tmp_path, env="t"))
    assert isinstance(local, LocalLakeStorage)
    assert local.root == tmp_path / "lake"
