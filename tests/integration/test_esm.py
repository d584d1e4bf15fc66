"""The local event-source mapping against kinesalite and moto: real reads, real on-failure queue,
and a runner killed with SIGKILL that resumes from its checkpoint."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import KinesisStream
from glucosestream.adapters.producer import Producer
from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import Entry
from glucosestream.local.esm import CheckpointStore, EventSourceMapping, MappingConfig
from glucosestream.resources import project_path
from glucosestream.settings import Settings, load_settings
from tests.factories import trace

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

Handler = Callable[[dict[str, Any], Any], object]


def new_stream(settings: Settings, shards: int = 1) -> KinesisStream:
    stream = KinesisStream(aws_client("kinesis", settings), f"esm-{uuid.uuid4().hex[:10]}")
    stream.ensure(shards)
    return stream


def put_raw(stream: KinesisStream, count: int, prefix: str = "r") -> list[bytes]:
    payloads = [f"{prefix}-{i}".encode() for i in range(count)]
    for start in range(0, count, 500):
        chunk = payloads[start : start + 500]
        result = stream.put_batch([Entry(p, f"key-{i % 17}") for i, p in enumerate(chunk)])
        assert not result.failed
    return payloads


def sequences(stream: KinesisStream) -> dict[str, list[str]]:
    return {s: [r.sequence_number for r in stream.read_available(s)] for s in stream.shard_ids()}


def pump(esm: EventSourceMapping, until: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll until ``until()`` holds; fail (rather than hang) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, "the mapping did not get there in time"
        if not esm.poll_once():
            time.sleep(0.02)


class Recorder:
    def __init__(self, respond: Callable[[list[str]], object] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond = respond

    def __call__(self, event: dict[str, Any], context: Any) -> object:
        self.events.append(event)
        sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
        return self.respond(sequences) if self.respond else None

    @property
    def batches(self) -> list[list[str]]:
        return [[r["kinesis"]["sequenceNumber"] for r in e["Records"]] for e in self.events]

    @property
    def seen(self) -> set[str]:
        return {s for batch in self.batches for s in batch}


def mapping(
    settings: Settings, stream: KinesisStream, function: Handler, **config: Any
) -> EventSourceMapping:
    name = f"it-{uuid.uuid4().hex[:8]}"
    return EventSourceMapping(name, settings, function, MappingConfig(**config), stream=stream)


def test_events_carry_the_produced_readings_in_the_lambda_shape(running_stack: Settings) -> None:
    stream = new_stream(running_stack)
    readings = trace(1, 30)
    before = time.time()
    Producer(stream).publish(readings)
    handler = Recorder()
    esm = mapping(running_stack, stream, handler, batch_size=100)
    pump(esm, lambda: len(handler.seen) == 30)

    codec = default_codec()
    records = [r for event in handler.events for r in event["Records"]]
    decoded = [codec.decode(base64.b64decode(r["kinesis"]["data"])) for r in records]
    assert [d["event_id"] for d in decoded] == [r.event_id for r in readings]
    (shard_id,) = stream.shard_ids()
    for record in records:
        kinesis = record["kinesis"]
        assert kinesis["partitionKey"] == readings[0].patient_id
        assert record["eventID"] == f"{shard_id}:{kinesis['sequenceNumber']}"
        assert record["eventSourceARN"] == (
            f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream.name}"
        )
        assert record["invokeIdentityArn"] == f"arn:aws:iam::123456789012:role/gs-it-{esm.name}"
        assert isinstance(kinesis["approximateArrivalTimestamp"], float)
        # an epoch in seconds (not milliseconds) around when we put the records
        assert before - 60 < kinesis["approximateArrivalTimestamp"] < time.time() + 60
    assert esm.stats.millis_behind_latest == {shard_id: 0}


def test_batch_size_is_respected_on_every_shard(running_stack: Settings) -> None:
    stream = new_stream(running_stack, shards=2)
    put_raw(stream, 57)
    expected = sequences(stream)
    handler = Recorder()
    esm = mapping(running_stack, stream, handler, batch_size=10)
    pump(esm, lambda: len(handler.seen) == 57)
    assert max(len(b) for b in handler.batches) == 10
    assert sum(len(b) for b in handler.batches) == 57  # each delivered once
    for shard_id, shard_sequences in expected.items():
        in_order = [s for batch in handler.batches for s in batch if s in set(shard_sequences)]
        assert in_order == shard_sequences
        assert esm.checkpoint(shard_id) == shard_sequences[-1]


def test_after_a_split_every_record_of_the_parent_comes_before_its_childrens(
    running_stack: Settings,
) -> None:
    # Given a shard with 40 records, split (kinesalite closes it and opens two children), and
    # 30 newer records of the same keys on the children
    stream = new_stream(running_stack)
    put_raw(stream, 40, "old")
    kinesis = aws_client("kinesis", running_stack)
    (parent,) = stream.shard_ids()
    kinesis.split_shard(StreamName=stream.name, ShardToSplit=parent, NewStartingHashKey=str(2**127))
    deadline = time.monotonic() + 10
    while len(stream.shard_lineage()) < 3:
        assert time.monotonic() < deadline, "the split did not happen"
        time.sleep(0.1)
    assert sorted(stream.shard_lineage().values()) == [(), (parent,), (parent,)]
    put_raw(stream, 30, "new")
    handler = Recorder()
    # When the mapping reads all three shards, ten records a batch
    esm = mapping(running_stack, stream, handler, batch_size=10)
    pump(esm, lambda: len(handler.seen) == 70)
    # Then the parent's 40 records were delivered, in order, before any of the children's
    delivered = [s for batch in handler.batches for s in batch]
    assert delivered[:40] == sequences(stream)[parent]
    assert len(delivered) == 70


def test_batching_window_holds_a_partial_batch_until_it_closes(running_stack: Settings) -> None:
    stream = new_stream(running_stack)
    now = [time.time()]
    handler = Recorder()
    esm = EventSourceMapping(
        "window",
        running_stack,
        handler,
        MappingConfig(batch_size=20, maximum_batching_window_s=10),
        stream=stream,
        clock=lambda: now[0],
    )
    put_raw(stream, 4, "a")
    assert esm.poll_once() == 0
    put_raw(stream, 3, "b")
    assert esm.poll_once() == 0
    now[0] += 10
    assert esm.poll_once() == 7
    put_raw(stream, 25, "c")
    assert esm.poll_once() == 20  # a full batch does not wait for the window
    assert [len(b) for b in handler.batches] == [7, 20]


def test_partial_failure_redelivers_from_the_lowest_failed_record(running_stack: Settings) -> None:
    stream = new_stream(running_stack)
    put_raw(stream, 20)
    (ordered,) = sequences(stream).values()
    failures = {ordered[12]: 1, ordered[7]: 2}

    def respond(batch: list[str]) -> object:
        failed = [s for s in batch if failures.get(s, 0) > 0]
        for s in failed:
            failures[s] -= 1
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}

    handler = Recorder(respond)
    esm = mapping(running_stack, stream, handler, batch_size=20)
    pump(esm, lambda: esm.checkpoint(stream.shard_ids()[0]) == ordered[-1])
    assert handler.batches == [ordered, ordered[7:], ordered[7:]]
    assert esm.stats.partial_failures == 2
    assert esm.stats.records_succeeded == 20


def test_bisect_isolates_the_poison_record_and_its_failure_lands_in_sqs(
    running_stack: Settings,
) -> None:
    sqs = aws_client("sqs", running_stack)
    queue = sqs.create_queue(QueueName=f"esm-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    stream = new_stream(running_stack)
    put_raw(stream, 16)
    (ordered,) = sequences(stream).values()
    poison = ordered[9]

    def respond(batch: list[str]) -> object:
        if poison in batch:
            raise ValueError("undecodable record")
        return None

    handler = Recorder(respond)
    esm = mapping(
        running_stack,
        stream,
        handler,
        batch_size=16,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=2,
        on_failure_queue_url=queue,
    )
    (shard_id,) = stream.shard_ids()
    pump(esm, lambda: esm.checkpoint(shard_id) == ordered[-1])
    assert handler.seen == set(ordered)
    succeeded = [b for b in handler.batches if poison not in b]
    assert sorted(s for b in succeeded for s in b) == sorted(set(ordered) - {poison})
    assert handler.batches.count([poison]) == 3  # isolated, then its 2 retries
    assert esm.stats.records_discarded == 1

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    assert len(bodies) == 1
    (body,) = bodies
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["responseContext"]["functionError"] == "Unhandled"
    info = body["KinesisBatchInfo"]
    assert info["shardId"] == shard_id
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison
    assert info["batchSize"] == 1
    assert info["streamArn"].endswith(f":stream/{stream.name}")


def test_records_past_the_maximum_age_are_skipped_with_one_message_per_batch(
    running_stack: Settings,
) -> None:
    sqs = aws_client("sqs", running_stack)
    queue = sqs.create_queue(QueueName=f"esm-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    stream = new_stream(running_stack)
    put_raw(stream, 12)
    (ordered,) = sequences(stream).values()
    handler = Recorder()
    esm = EventSourceMapping(
        "aged",
        running_stack,
        handler,
        MappingConfig(batch_size=5, maximum_record_age_s=60, on_failure_queue_url=queue),
        stream=stream,
        clock=lambda: time.time() + 3600,  # every record is an hour old
    )
    (shard_id,) = stream.shard_ids()
    pump(esm, lambda: esm.checkpoint(shard_id) == ordered[-1])
    assert handler.events == []
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    assert [b["requestContext"]["condition"] for b in bodies] == ["RecordAgeExceeded"] * 3
    infos = sorted((b["KinesisBatchInfo"] for b in bodies), key=lambda i: i["batchSize"])
    assert [i["batchSize"] for i in infos] == [2, 5, 5]
    assert {i["startSequenceNumber"] for i in infos} == {ordered[0], ordered[5], ordered[10]}


def test_with_infinite_retries_a_failing_batch_blocks_its_shard_until_it_succeeds(
    running_stack: Settings,
) -> None:
    stream = new_stream(running_stack)
    put_raw(stream, 6)
    (ordered,) = sequences(stream).values()
    broken = threading.Event()
    broken.set()

    def respond(batch: list[str]) -> object:
        if broken.is_set():
            raise ConnectionError("downstream table unavailable")
        return None

    handler = Recorder(respond)
    esm = mapping(running_stack, stream, handler, batch_size=3)
    (shard_id,) = stream.shard_ids()
    pump(esm, lambda: len(handler.events) >= 4)
    assert handler.batches == [ordered[:3]] * len(handler.events)  # nothing after it was read
    assert esm.checkpoint(shard_id) is None
    assert esm.stats.records_discarded == 0
    broken.clear()
    pump(esm, lambda: esm.checkpoint(shard_id) == ordered[-1])
    assert handler.batches[-2:] == [ordered[:3], ordered[3:]]


# -- kill -9 and resume -----------------------------------------------------------------------

LOG_ENV = "GS_TEST_ESM_LOG"


def append_sequences(event: dict[str, Any], context: Any) -> None:
    """The handler of the child runner: append what it processed, slowly enough to be killed."""
    with open(os.environ[LOG_ENV], "a") as log:
        for record in event["Records"]:
            log.write(f"{record['eventID']}\n")
    time.sleep(0.01)


def child_main() -> None:
    """Run an event-source mapping until SIGTERM (started by the kill-and-resume test)."""
    spec = json.loads(sys.argv[1])
    settings = load_settings(**spec["settings"])
    stream = KinesisStream(aws_client("kinesis", settings), spec["stream"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    esm = EventSourceMapping(
        "resume", settings, append_sequences, MappingConfig(batch_size=7), stream=stream
    )
    esm.run(stop)


def test_a_killed_runner_resumes_from_its_checkpoint_at_least_once(
    running_stack: Settings, tmp_path: Path
) -> None:
    stream = new_stream(running_stack, shards=2)
    put_raw(stream, 400)
    expected = sequences(stream)
    log = tmp_path / "processed.log"
    log.touch()
    spec = {
        "settings": {
            "state_dir": str(running_stack.state_dir),
            "kinesis_port": running_stack.kinesis_port,
            "moto_port": running_stack.moto_port,
            "env": running_stack.env,
        },
        "stream": stream.name,
    }
    command = [
        sys.executable,
        "-c",
        "from tests.integration.test_esm import child_main; child_main()",
        json.dumps(spec),
    ]
    env = {**os.environ, LOG_ENV: str(log)}
    checkpoints = CheckpointStore(running_stack.state_dir / "esm" / "resume")

    def processed() -> list[tuple[str, str]]:
        lines = log.read_text().splitlines()
        return [(shard, seq) for shard, _, seq in (line.partition(":") for line in lines)]

    def check_checkpoints_cover_only_processed_records() -> dict[str, str | None]:
        # Checkpoints first, log second: whatever a checkpoint covers was logged before it.
        marks = {shard: checkpoints.load(shard) for shard in expected}
        done = set(processed())
        for shard, mark in marks.items():
            if mark is None:
                continue
            covered = [s for s in expected[shard] if int(s) <= int(mark)]
            assert all((shard, s) in done for s in covered), f"{shard} checkpointed past a record"
        return marks

    def wait_for(condition: Callable[[], bool], child: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 40
        while not condition():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child runner made no progress"
            check_checkpoints_cover_only_processed_records()
            time.sleep(0.01)

    first = subprocess.Popen(command, env=env, cwd=project_path(), stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(processed()) >= 120, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.stderr is not None
        first.stderr.close()
    at_kill = check_checkpoints_cover_only_processed_records()
    assert any(mark is not None for mark in at_kill.values())
    lines_before_restart = len(processed())
    assert lines_before_restart < 400

    second = subprocess.Popen(command, env=env, cwd=project_path(), stderr=subprocess.PIPE)
    try:
        everything = {(shard, s) for shard, seqs in expected.items() for s in seqs}
        wait_for(lambda: everything <= set(processed()), second)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
        assert second.stderr is not None
        second.stderr.close()
    assert second.returncode == 0
    check_checkpoints_cover_only_processed_records()
    for shard, seqs in expected.items():
        assert checkpoints.load(shard) == seqs[-1]
    # Resumed after the checkpoint: nothing it covered at the kill was delivered again.
    redelivered = processed()[lines_before_restart:]
    for shard, seq in redelivered:
        mark = at_kill[shard]
        assert mark is None or int(seq) > int(mark)
