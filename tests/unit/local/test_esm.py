"""The local event-source mapping against an in-memory stream, a fake clock and a fake SQS."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from glucosestream.adapters.kinesis import StreamRecord
from glucosestream.local.esm import (
    MAX_PAYLOAD_BYTES,
    CheckpointStore,
    EventSourceMapping,
    MappingConfig,
)
from glucosestream.settings import Settings
from tests.support.clock import FakeClock
from tests.support.shards import FakeShards

T0 = 1_767_571_200.0  # 2026-01-05T00:00:00Z


class FakeSqs:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail = False

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, str]:  # noqa: N803 - boto3's names
        if self.fail:
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage"
            )
        self.messages.append({"QueueUrl": QueueUrl, **json.loads(MessageBody)})
        return {"MessageId": str(len(self.messages))}


class Recorder:
    """A handler that records what it saw and answers with ``respond(sequence numbers)``."""

    def __init__(self, respond: Callable[[list[str]], object] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.respond = respond

    def __call__(self, event: dict[str, Any], context: Any) -> object:
        sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
        self.batches.append(sequences)
        self.events.append(event)
        self.contexts.append(context)
        return self.respond(sequences) if self.respond else None

    @property
    def seen(self) -> list[str]:
        return [s for batch in self.batches for s in batch]


QUEUE = "http://127.0.0.1:1/123456789012/gs-test-alerts-dlq"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def stream(clock: FakeClock) -> FakeShards:
    return FakeShards(clock=clock)


def mapping(
    settings: Settings,
    stream: FakeShards,
    clock: FakeClock,
    function: Callable[[dict[str, Any], Any], object],
    sqs: FakeSqs | None = None,
    **config: Any,
) -> EventSourceMapping:
    return EventSourceMapping(
        "alerts",
        settings,
        function,
        MappingConfig(**config),
        stream=stream,
        sqs=sqs,
        sleep=clock.sleep,
        clock=clock,
    )


def run_until(esm: EventSourceMapping, happened: threading.Event) -> None:
    """Runs the mapping on a thread (its real clock) until ``happened`` (within 15 s), then
    stops it: run() must return within 10 s."""
    stop = threading.Event()
    runner = threading.Thread(target=esm.run, args=(stop,), daemon=True)
    runner.start()
    try:
        assert happened.wait(15)
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


def idle_wait(esm: EventSourceMapping, clock: FakeClock) -> float:
    """How long a pass of every shard would wait idle: the soonest shard's wait."""
    return min(esm._idle_wait(shard, clock()) for shard in esm._shards.values())


def drain(esm: EventSourceMapping, clock: FakeClock, passes: int = 500) -> None:
    """Poll (sleeping on the fake clock when idle) until a pass finds nothing at all to do."""
    idle = 0
    for _ in range(passes):
        if esm.poll_once():
            idle = 0
            continue
        idle += 1
        if idle > 3 and all(s.backoff.retry_at <= clock() for s in esm._shards.values()):
            return
        clock.sleep(idle_wait(esm, clock))
    raise AssertionError("the mapping did not settle")


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch_size", 0),
        ("batch_size", 10_001),
        ("batch_size", True),
        ("batch_size", 1.5),
        ("maximum_batching_window_s", -1),
        ("maximum_batching_window_s", 301),
        ("report_batch_item_failures", 1),
        ("bisect_batch_on_function_error", "yes"),
        ("maximum_retry_attempts", -2),
        ("maximum_retry_attempts", 10_001),
        ("maximum_record_age_s", 59),
        ("maximum_record_age_s", 604_801),
        ("maximum_record_age_s", 0),
        ("starting_position", "AT_TIMESTAMP"),
        ("on_failure_queue_url", "gs-dev-alerts-dlq"),
    ],
)
def test_config_rejects_out_of_range_values_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        MappingConfig(**{field: value})  # type: ignore[arg-type]


def test_config_defaults_are_the_aws_defaults_and_edges_are_accepted() -> None:
    config = MappingConfig()
    assert (config.batch_size, config.maximum_batching_window_s) == (100, 0)
    assert config.report_batch_item_failures is True
    assert config.bisect_batch_on_function_error is False
    assert (config.maximum_retry_attempts, config.maximum_record_age_s) == (-1, -1)
    assert config.on_failure_queue_url is None
    MappingConfig(
        batch_size=10_000,
        maximum_batching_window_s=300,
        maximum_retry_attempts=10_000,
        maximum_record_age_s=604_800,
        starting_position="LATEST",
        on_failure_queue_url=QUEUE,
    )
    MappingConfig(batch_size=1, maximum_retry_attempts=0, maximum_record_age_s=60)


def test_mapping_name_must_be_a_safe_path_component(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    with pytest.raises(ValueError, match="name"):
        EventSourceMapping("../x", settings, Recorder(), stream=stream, clock=clock)


# -- event and context ----------------------------------------------------------------------


def test_event_has_the_lambda_kinesis_shape(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    put = stream.put(b"\xc3\x01binary\x00payload", "patient-7")
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler)
    assert esm.poll_once() == 1
    (record,) = handler.events[0]["Records"]
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "patient-7",
            "sequenceNumber": put.sequence_number,
            "data": base64.b64encode(put.data).decode(),
            "approximateArrivalTimestamp": put.arrival_ms / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{put.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/gs-test-alerts",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/gs-test-readings",
    }
    json.dumps(handler.events[0])  # the event is plain JSON, as Lambda delivers it
    context = handler.contexts[0]
    assert context.function_name == "gs-test-alerts"
    assert context.invoked_function_arn == (
        "arn:aws:lambda:us-east-1:123456789012:function:gs-test-alerts"
    )
    assert context.memory_limit_in_mb == 128
    assert len(context.aws_request_id) == 36
    assert context.get_remaining_time_in_millis() == 60_000
    clock.now += 1.5
    assert context.get_remaining_time_in_millis() == 58_500


# -- batching -------------------------------------------------------------------------------


def test_batches_respect_batch_size_and_shard_order(settings: Settings, clock: FakeClock) -> None:
    stream = FakeShards(2, clock=clock)
    put = {0: stream.put_many(25, 0), 1: stream.put_many(7, 1)}
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler, batch_size=10)
    drain(esm, clock)
    assert all(len(batch) <= 10 for batch in handler.batches)
    assert sorted(len(batch) for batch in handler.batches) == [5, 7, 10, 10]
    for records in put.values():
        seen = [s for s in handler.seen if s in {r.sequence_number for r in records}]
        assert seen == [r.sequence_number for r in records]
    assert esm.stats.batches == 4
    assert esm.stats.records == esm.stats.records_succeeded == 32
    assert esm.checkpoint("shardId-000000000000") == put[0][-1].sequence_number
    assert esm.checkpoint("shardId-000000000001") == put[1][-1].sequence_number


def test_after_a_reshard_the_children_wait_until_their_parent_is_done(
    settings: Settings, clock: FakeClock
) -> None:
    # Given a shard with 25 records not yet read when a split closed it, and its two children
    # already holding newer records (of the same keys, in AWS: a key's hash range moved)
    stream = FakeShards(1, clock=clock)
    older = [r.sequence_number for r in stream.put_many(25, 0)]
    left, right = stream.split(0)
    newer = [r.sequence_number for r in stream.put_many(5, left) + stream.put_many(5, right)]
    handler = Recorder()
    # When the mapping reads all three shards, ten records a batch
    drain(mapping(settings, stream, clock, handler, batch_size=10), clock)
    # Then every record of the parent reached the function before any record of a child
    assert handler.seen[:25] == older
    assert sorted(handler.seen[25:]) == sorted(newer)

    # And after a restart (the parent done and checkpointed) the children go on at once
    later = [r.sequence_number for r in stream.put_many(3, left)]
    again = Recorder()
    drain(mapping(settings, stream, clock, again, batch_size=10), clock)
    assert again.seen == later


def test_batching_window_waits_for_a_full_batch_or_the_window(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler, batch_size=10, maximum_batching_window_s=5)
    stream.put_many(3)
    assert esm.poll_once() == 0
    clock.now += 4
    assert esm.poll_once() == 0
    stream.put_many(8)
    assert esm.poll_once() == 10  # full before the window closed: invoked at once
    assert esm.poll_once() == 0  # the 11th record waits for its own window
    clock.now += 4.9
    assert esm.poll_once() == 0
    clock.now += 0.2
    assert esm.poll_once() == 1
    assert [len(b) for b in handler.batches] == [10, 1]


def test_without_a_window_whatever_is_there_is_delivered_at_once(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler, batch_size=100)
    stream.put_many(3)
    assert esm.poll_once() == 3


def test_batches_stay_under_the_invocation_payload_limit(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    for index in range(12):
        stream.put(bytes([index]) * 1_000_000)
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler, batch_size=100)
    drain(esm, clock)
    assert len(handler.seen) == 12
    assert len(handler.batches) > 1
    assert all(len(json.dumps(event)) <= MAX_PAYLOAD_BYTES for event in handler.events)


def test_latest_starts_at_the_tip_and_a_checkpoint_wins_over_the_starting_position(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    stream.put_many(5)
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler, starting_position="LATEST")
    assert esm.poll_once() == 0
    later = stream.put_many(2)
    drain(esm, clock)
    assert handler.seen == [r.sequence_number for r in later]

    newer = stream.put(b"after restart")
    again = Recorder()
    drain(mapping(settings, stream, clock, again, starting_position="TRIM_HORIZON"), clock)
    assert again.seen == [newer.sequence_number]


# -- partial batch response -----------------------------------------------------------------


def test_partial_failure_checkpoints_before_the_lowest_failure_and_retries_the_rest(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(10)]
    failing = {records[6], records[4]}

    def respond(sequences: list[str]) -> object:
        failed = [s for s in sequences if s in failing]
        failing.clear()  # the next delivery succeeds
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}

    handler = Recorder(respond)
    esm = mapping(settings, stream, clock, handler, batch_size=10)
    assert esm.poll_once() == 10
    assert esm.checkpoint("shardId-000000000000") == records[3]
    drain(esm, clock)
    assert handler.batches == [records, records[4:]]
    assert esm.checkpoint("shardId-000000000000") == records[-1]
    assert esm.stats.partial_failures == 1
    assert esm.stats.retries == 1
    assert esm.stats.records_succeeded == 10


@pytest.mark.parametrize(
    "response",
    [
        None,
        {},
        {"batchItemFailures": []},
        {"batchItemFailures": None},
        {"statusCode": 200},
    ],
)
def test_empty_or_missing_failures_are_a_full_success(
    settings: Settings, stream: FakeShards, clock: FakeClock, response: object
) -> None:
    stream.put_many(4)
    handler = Recorder(lambda _: response)
    esm = mapping(settings, stream, clock, handler)
    drain(esm, clock)
    assert len(handler.batches) == 1
    assert esm.stats.retries == 0


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemId": "x"}]},
        {"batchItemFailures": "everything"},
        "malformed",
    ],
)
def test_a_bad_item_identifier_or_malformed_response_fails_the_whole_batch(
    settings: Settings, stream: FakeShards, clock: FakeClock, response: object
) -> None:
    records = [r.sequence_number for r in stream.put_many(4)]
    answers = [response, None]
    handler = Recorder(lambda _: answers.pop(0))
    esm = mapping(settings, stream, clock, handler)
    drain(esm, clock)
    assert handler.batches == [records, records]
    assert esm.stats.function_errors == 1


def test_with_reporting_off_batch_item_failures_are_ignored(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(4)]
    handler = Recorder(lambda s: {"batchItemFailures": [{"itemIdentifier": s[0]}]})
    esm = mapping(settings, stream, clock, handler, report_batch_item_failures=False)
    drain(esm, clock)
    assert handler.batches == [records]
    assert esm.checkpoint("shardId-000000000000") == records[-1]


def test_partial_failures_count_against_the_retry_quota(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(6)]
    poison = records[3]
    sqs = FakeSqs()
    handler = Recorder(
        lambda s: {"batchItemFailures": [{"itemIdentifier": poison}]} if poison in s else None
    )
    esm = mapping(
        settings, stream, clock, handler, sqs, maximum_retry_attempts=2, on_failure_queue_url=QUEUE
    )
    drain(esm, clock)
    assert handler.batches == [records, records[3:], records[3:]]
    assert esm.stats.records_discarded == 3
    (message,) = sqs.messages
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["responseContext"]["functionError"] is None
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == poison
    assert message["KinesisBatchInfo"]["batchSize"] == 3


# -- function errors, bisect, retries -------------------------------------------------------


def poison_handler(poison: set[str]) -> Recorder:
    def respond(sequences: list[str]) -> object:
        if poison & set(sequences):
            raise RuntimeError("cannot decode")
        return None

    return Recorder(respond)


def test_bisect_isolates_the_poison_record_and_discards_only_it(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(8)]
    poison = records[5]
    sqs = FakeSqs()
    handler = poison_handler({poison})
    esm = mapping(
        settings,
        stream,
        clock,
        handler,
        sqs,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=1,
        on_failure_queue_url=QUEUE,
    )
    drain(esm, clock)
    assert handler.batches[:4] == [records, records[:4], records[4:], records[4:6]]
    # [4:6] fails → [4] succeeds, [5] fails, its one retry fails, [6:] succeeds.
    assert handler.batches[4:] == [[records[4]], [poison], [poison], records[6:]]
    assert esm.stats.bisections == 3
    assert esm.stats.retries == 1
    assert esm.stats.records_discarded == 1
    processed = [s for b in handler.batches for s in b if s != poison]
    assert sorted(set(processed)) == sorted(set(records) - {poison})
    (message,) = sqs.messages
    assert message["QueueUrl"] == QUEUE
    info = message["KinesisBatchInfo"]
    assert info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison
    assert info["batchSize"] == 1
    assert info["streamArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/gs-test-readings"
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 5
    assert message["requestContext"]["functionArn"].endswith(":function:gs-test-alerts")
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["version"] == "1.0"
    assert message["timestamp"].endswith("Z")
    assert esm.checkpoint("shardId-000000000000") == records[-1]


def test_without_bisect_the_whole_batch_is_retried_then_discarded(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(4)]
    after = [r.sequence_number for r in stream.put_many(1)]
    sqs = FakeSqs()
    handler = poison_handler({records[1]})
    esm = mapping(
        settings,
        stream,
        clock,
        handler,
        sqs,
        batch_size=4,
        maximum_retry_attempts=2,
        on_failure_queue_url=QUEUE,
    )
    drain(esm, clock)
    assert handler.batches == [records, records, records, after]
    (message,) = sqs.messages
    assert message["KinesisBatchInfo"]["batchSize"] == 4
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert esm.stats.records_discarded == 4


def test_retries_exhausted_without_destination_still_move_on(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(2)]
    esm = mapping(settings, stream, clock, poison_handler({records[0]}), maximum_retry_attempts=0)
    drain(esm, clock)
    assert esm.checkpoint("shardId-000000000000") == records[-1]
    assert esm.stats.on_failure_messages == 0


def test_infinite_retries_block_the_shard_with_backoff_and_other_shards_go_on(
    settings: Settings, clock: FakeClock
) -> None:
    stream = FakeShards(2, clock=clock)
    blocked = [r.sequence_number for r in stream.put_many(3, 0)]
    fine = [r.sequence_number for r in stream.put_many(3, 1)]
    broken = threading.Event()
    broken.set()

    def respond(sequences: list[str]) -> object:
        if broken.is_set() and sequences[0] in blocked:
            raise RuntimeError("downstream unavailable")
        return None

    handler = Recorder(respond)
    esm = mapping(settings, stream, clock, handler)
    stop = threading.Event()
    calls = 0

    def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        clock.now += seconds
        if calls == 200:
            stop.set()

    esm._sleep = sleep
    esm.run(stop)
    attempts = [b for b in handler.batches if b == blocked]
    assert esm.checkpoint("shardId-000000000000") is None
    assert esm.checkpoint("shardId-000000000001") == fine[-1]
    assert esm.stats.records_discarded == 0
    # Backing off (0.1 s doubling to 5 s) bounds the attempts over the fake time slept.
    assert len(attempts) < clock.now - T0
    assert len(attempts) > 5
    broken.clear()
    drain(esm, clock)
    assert esm.checkpoint("shardId-000000000000") == blocked[-1]
    assert handler.batches[-1] == blocked


def test_unsent_on_failure_message_keeps_the_records_until_it_is_sent(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(2)]
    sqs = FakeSqs()
    sqs.fail = True
    esm = mapping(
        settings,
        stream,
        clock,
        poison_handler({records[0]}),
        sqs,
        maximum_retry_attempts=0,
        on_failure_queue_url=QUEUE,
    )
    for _ in range(5):
        esm.poll_once()
        clock.sleep(1)
    assert esm.checkpoint("shardId-000000000000") is None
    sqs.fail = False
    drain(esm, clock)
    assert len(sqs.messages) == 1
    assert esm.checkpoint("shardId-000000000000") == records[-1]


class ShardsTellingEmptyReads(FakeShards):
    """Sets ``read_empty[shard]`` once a GetRecords on that shard has found nothing."""

    def __init__(self, shards: int) -> None:
        super().__init__(shards, clock=time.time)
        self.read_empty = {shard: threading.Event() for shard in self.records}

    def get_records(
        self, shard_id: str, iterator: str, limit: int = 10_000
    ) -> tuple[list[StreamRecord], str | None, int]:
        page = super().get_records(shard_id, iterator, limit)
        if not page[0]:
            self.read_empty[shard_id].set()
        return page


def test_a_shard_is_invoked_while_another_shards_invocation_runs(settings: Settings) -> None:
    # On AWS each shard is polled on its own: a batch that arrives on one shard while another
    # shard's function runs is not held until that function returns (real clock: run() waits).
    stream = ShardsTellingEmptyReads(2)
    first = [r.sequence_number for r in stream.put_many(2, 0)]
    second_invoked = threading.Event()
    later: list[str] = []
    seen_while_running: list[bool] = []

    def respond(sequences: list[str]) -> object:
        if sequences == first:
            # The other shard was polled and found nothing; its records arrive now.
            assert stream.read_empty["shardId-000000000001"].wait(5)
            later.extend(r.sequence_number for r in stream.put_many(2, 1))
            # Held until the other shard's batch is invoked (bounded: fails rather than hangs).
            seen_while_running.append(second_invoked.wait(5))
        else:
            second_invoked.set()
        return None

    handler = Recorder(respond)
    esm = EventSourceMapping("alerts", settings, handler, MappingConfig(), stream=stream)
    run_until(esm, second_invoked)
    assert seen_while_running == [True]
    assert handler.batches == [first, later]
    # run() returned with every invocation done and checkpointed.
    assert esm.checkpoint("shardId-000000000000") == first[-1]
    assert esm.checkpoint("shardId-000000000001") == later[-1]


# -- record age -----------------------------------------------------------------------------


def test_records_older_than_the_maximum_age_are_discarded_as_record_age_exceeded(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    old = [r.sequence_number for r in stream.put_many(3)]
    clock.now += 50
    young = [r.sequence_number for r in stream.put_many(2)]
    clock.now += 20  # old records are 70 s old, young ones 20 s
    sqs = FakeSqs()
    handler = Recorder()
    esm = mapping(
        settings, stream, clock, handler, sqs, maximum_record_age_s=60, on_failure_queue_url=QUEUE
    )
    drain(esm, clock)
    assert handler.batches == [young]
    (message,) = sqs.messages
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    info = message["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (old[0], old[-1])
    assert info["batchSize"] == 3
    assert info["approximateArrivalOfFirstRecord"] == "2026-01-05T00:00:00.000Z"
    assert esm.checkpoint("shardId-000000000000") == young[-1]


def test_records_that_age_out_while_being_retried_are_discarded(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(3)]
    sqs = FakeSqs()
    handler = poison_handler({records[0]})
    esm = mapping(
        settings, stream, clock, handler, sqs, maximum_record_age_s=60, on_failure_queue_url=QUEUE
    )
    drain_until = T0 + 120
    while clock.now < drain_until:
        if not esm.poll_once():
            clock.sleep(idle_wait(esm, clock))
    assert esm.checkpoint("shardId-000000000000") == records[-1]
    (message,) = sqs.messages
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] > 1
    assert message["responseContext"]["functionError"] == "Unhandled"


# -- checkpoints and reads ------------------------------------------------------------------


def test_checkpoint_files_are_json_under_the_state_dir_and_resumed_after(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    first = [r.sequence_number for r in stream.put_many(5)]
    drain(mapping(settings, stream, clock, Recorder(), batch_size=2), clock)
    path = settings.state_dir / "esm" / "alerts" / "shardId-000000000000.json"
    document = json.loads(path.read_text())
    assert document["sequence_number"] == first[-1]
    assert document["shard_id"] == "shardId-000000000000"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left

    second = [r.sequence_number for r in stream.put_many(3)]
    handler = Recorder()
    drain(mapping(settings, stream, clock, handler), clock)
    assert handler.seen == second


def test_checkpoint_store_replaces_atomically(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "esm" / "m")
    assert store.load("shardId-1") is None
    store.save("shardId-1", "1")
    store.save("shardId-1", "2")
    assert store.load("shardId-1") == "2"


def test_an_expired_iterator_is_renewed_after_the_last_record_read(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    first = [r.sequence_number for r in stream.put_many(2)]
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler)
    drain(esm, clock)
    stream.expire_next = True
    second = [r.sequence_number for r in stream.put_many(2)]
    drain(esm, clock)
    assert handler.seen == first + second


def test_run_stops_when_the_event_is_set(settings: Settings, stream: FakeShards) -> None:
    stream.put_many(3)
    done = threading.Event()
    handler = Recorder(lambda _: done.set())
    esm = EventSourceMapping("alerts", settings, handler, stream=stream)
    run_until(esm, done)


def test_a_reported_failure_of_the_first_record_retries_the_batch_without_bisecting(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(4)]
    answers: list[object] = [{"batchItemFailures": [{"itemIdentifier": records[0]}]}, None]
    handler = Recorder(lambda _: answers.pop(0))
    esm = mapping(settings, stream, clock, handler, bisect_batch_on_function_error=True)
    drain(esm, clock)
    assert handler.batches == [records, records]
    assert (esm.stats.partial_failures, esm.stats.bisections, esm.stats.retries) == (1, 0, 1)


def test_failed_reads_back_off_and_recover_without_losing_records(
    settings: Settings, stream: FakeShards, clock: FakeClock
) -> None:
    records = [r.sequence_number for r in stream.put_many(3)]
    stream.throttle_next = 3
    handler = Recorder()
    esm = mapping(settings, stream, clock, handler)
    assert esm.poll_once() == 0
    assert esm.poll_once() == 0  # backing off: no GetRecords call this pass
    assert stream.get_records_calls == 1
    drain(esm, clock)
    assert handler.seen == records
    assert esm.stats.read_errors == 3
