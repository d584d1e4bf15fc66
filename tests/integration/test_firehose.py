"""The local Firehose worker against kinesalite: counts balance over 100k simulated readings,
and a worker killed with SIGKILL around a file write loses nothing after a restart."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import KinesisStream
from glucosestream.adapters.producer import Producer
from glucosestream.contract.entries import Entry
from glucosestream.lake.directory import TEMPORARY_PREFIX
from glucosestream.lake.raw_zone.files import count_raw_zone
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.settings import Settings, load_settings
from stream.simulator import CohortConfig, simulate
from tests.factories import trace

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def new_stream(settings: Settings, shards: int = 2) -> KinesisStream:
    stream = KinesisStream(aws_client("kinesis", settings), f"fh-{uuid.uuid4().hex[:10]}")
    stream.ensure(shards)
    return stream


def own_settings(stack: Settings, state_dir: Path) -> Settings:
    """The running stack's endpoints with a state directory (lake, checkpoints) of our own."""
    return load_settings(
        state_dir=state_dir, kinesis_port=stack.kinesis_port, moto_port=stack.moto_port, env="it"
    )


def land_everything(worker: FirehoseWorker, expected: int, limit: int = 20_000) -> None:
    for _ in range(limit):
        if worker.stats.user_records >= expected:
            break
        worker.poll_once()
    worker.flush(force=True)
    worker.close()


def event_ids(settings: Settings) -> Counter[str]:
    ids: Counter[str] = Counter()
    for path in (settings.lake_dir / "raw/readings").rglob("*.parquet"):
        ids.update(pq.read_table(path, columns=["event_id"]).column("event_id").to_pylist())
    return ids


def test_counts_balance_over_100k_simulated_readings(
    running_stack: Settings, tmp_path: Path
) -> None:
    settings = own_settings(running_stack, tmp_path)
    stream = new_stream(settings)
    readings = [d.reading for d in simulate(CohortConfig(patients=46, days=10, seed=11))]
    assert len(readings) >= 100_000
    report = Producer(stream, aggregate=True).publish(readings)
    poison = [Entry(f"poison-{i}".encode(), f"k{i}") for i in range(7)]
    assert not stream.put_batch(poison).failed
    put = report.sent + len(poison)

    worker = FirehoseWorker(settings, stream=stream, buffer_bytes=4 << 20, buffer_seconds=900)
    land_everything(worker, put)

    counts = count_raw_zone(settings.lake_dir)
    assert counts.raw_rows + counts.error_records == put
    assert (counts.raw_rows, counts.error_records) == (len(readings), len(poison))
    assert event_ids(settings) == Counter(r.event_id for r in readings)
    tree = f"{settings.lake_dir}/raw/readings/**/*.parquet"
    (rows,) = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{tree}', hive_partitioning = true)"
    ).fetchone() or (0,)
    assert rows == len(readings)
    for shard_id in stream.shard_ids():
        assert worker.checkpoint(shard_id) == stream.read_available(shard_id)[-1].sequence_number


KILLED_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    from glucosestream.adapters.clients import aws_client
    from glucosestream.adapters.kinesis import KinesisStream
    from glucosestream.local.esm import CheckpointStore
    from glucosestream.local.firehose import FirehoseWorker
    from glucosestream.settings import load_settings

    state_dir, kinesis_port, moto_port, stream_name, expected, point = sys.argv[1:]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "before-checkpoint":
        CheckpointStore.save = die  # the file is durable, its checkpoint never written
    else:
        os.replace = die  # the file's bytes are fsynced under a temporary name, never renamed

    settings = load_settings(
        state_dir=Path(state_dir), kinesis_port=int(kinesis_port), moto_port=int(moto_port),
        env="it",
    )
    stream = KinesisStream(aws_client("kinesis", settings), stream_name)
    worker = FirehoseWorker(settings, stream=stream, buffer_bytes=2_000, buffer_seconds=900)
    for _ in range(1_000):
        if worker.stats.user_records >= int(expected):
            break
        worker.poll_once()
    worker.flush(force=True)
    sys.exit(3)  # not reached: the worker is killed at its first file
    """
)


@pytest.mark.parametrize("point", ["before-checkpoint", "before-rename"])
def test_kill_9_around_a_file_write_loses_nothing(
    running_stack: Settings, tmp_path: Path, point: str
) -> None:
    settings = own_settings(running_stack, tmp_path)
    stream = new_stream(settings, shards=1)
    readings = trace(1, 60) + trace(2, 60)
    Producer(stream).publish(readings)

    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_WORKER,
            str(tmp_path),
            str(settings.kinesis_port),
            str(settings.moto_port),
            stream.name,
            str(len(readings)),
            point,
        ],
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR"},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    (shard_id,) = stream.shard_ids()
    assert not (tmp_path / "firehose" / "raw-delivery" / f"{shard_id}.json").exists()
    leftovers = list((settings.lake_dir / "raw").rglob(f"{TEMPORARY_PREFIX}*"))
    landed_before = sum(event_ids(settings).values())
    if point == "before-checkpoint":
        assert landed_before > 0  # files were durable; a second writer may have left a temporary
    else:
        assert landed_before == 0
        assert leftovers

    restarted = FirehoseWorker(settings, stream=stream, buffer_bytes=2_000, buffer_seconds=900)
    land_everything(restarted, len(readings))
    ids = event_ids(settings)
    assert set(ids) == {r.event_id for r in readings}  # nothing lost
    assert sum(ids.values()) == len(readings) + landed_before  # re-landed at most once more
    assert not list((settings.lake_dir / "raw").rglob(f"{TEMPORARY_PREFIX}*"))
    assert restarted.checkpoint(shard_id) == stream.read_available(shard_id)[-1].sequence_number


def test_in_aws_mode_it_delivers_into_the_lake_bucket_at_the_s3_endpoint(
    running_stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The AWS-mode rehearsal's set-up: GS_MODE=aws, boto3's own endpoint variable, nothing else.
    settings = own_settings(running_stack, tmp_path)
    stream = new_stream(settings, shards=1)
    readings = trace(3, 30)
    Producer(stream).publish(readings)
    assert settings.moto_endpoint is not None
    for name, value in {
        "AWS_ENDPOINT_URL_S3": settings.moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    aws = load_settings(
        state_dir=tmp_path, env=f"aws{uuid.uuid4().hex[:6]}", mode="aws", pseudonym_key="k" * 32
    )
    s3 = aws_client("s3", aws)
    s3.create_bucket(Bucket=aws.names.lake_bucket)

    worker = FirehoseWorker(aws, stream=stream, buffer_seconds=900)
    land_everything(worker, len(readings))

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=aws.names.lake_bucket)["Contents"]]
    assert keys
    assert all(k.startswith("raw/readings/dt=2026-01-05/hour=0") for k in keys), keys
    landed = [
        event_id
        for key in keys
        for event_id in pq.read_table(
            io.BytesIO(s3.get_object(Bucket=aws.names.lake_bucket, Key=key)["Body"].read())
        )
        .column("event_id")
        .to_pylist()
    ]
    assert sorted(landed) == sorted(r.event_id for r in readings)
    assert not settings.lake_dir.exists()  # nothing in the local directory
    (shard_id,) = stream.shard_ids()
    assert worker.checkpoint(shard_id) == stream.read_available(shard_id)[-1].sequence_number
