"""The KCL record processor with kclpy's own message classes and in-memory ports: checkpoints
only after the batch is applied, poison records to the dead-letter queue, transient failures
retried in place, the KCL's lease-lost / shard-end / shutdown rules; the same alerts as the
Lambda path."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from amazon_kclpy import messages
from amazon_kclpy.checkpoint_error import CheckpointError

from consumers.alerts_kcl.processor import AlertsRecordProcessor
from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
from glucosestream.contract.codec import default_codec
from glucosestream.domain.reading import sensor_status
from tests.factories import FIVE_MINUTES_MS, START_MS, patient, reading
from tests.support.alert_ports import InMemoryStates, Topic

FALLING = [92, 84, 76, 69, 63, 58, 52, 49]
SHARD = "shardId-000000000001"


class Checkpointer:
    """kclpy's checkpointer as the daemon answers it: records calls; ``errors`` are raised
    (CheckpointError names) by the next calls, one each."""

    def __init__(self, errors: list[str] | None = None) -> None:
        self.calls: list[tuple[str | None, int | None]] = []
        self.errors = list(errors or [])

    def checkpoint(
        self, sequence_number: str | None = None, sub_sequence: int | None = None
    ) -> None:
        self.calls.append((sequence_number, sub_sequence))
        if self.errors:
            raise CheckpointError(self.errors.pop(0))


class DeadLetterQueue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send(self, body: str) -> str:
        self.bodies.append(json.loads(body))
        return f"m-{len(self.bodies)}"


def kcl_records(number: int = 1, data: list[bytes] | None = None) -> list[messages.Record]:
    codec = default_codec()
    payloads = data or [
        codec.encode(
            reading(
                patient_id=patient(number),
                device_id=f"dexcom-g7-{number:04d}",
                measured_at=START_MS + i * FIVE_MINUTES_MS,
                produced_at=START_MS + i * FIVE_MINUTES_MS + 4_000,
                glucose_mg_dl=value,
                status=sensor_status(value),
            ).to_record()
        )
        for i, value in enumerate(FALLING)
    ]
    return [
        messages.Record(
            {
                "sequenceNumber": f"4959{i:020d}",
                "subSequenceNumber": None,
                "approximateArrivalTimestamp": START_MS + i * FIVE_MINUTES_MS + 9_000,
                "partitionKey": patient(number),
                "data": base64.b64encode(payload).decode(),
            }
        )
        for i, payload in enumerate(payloads)
    ]


def process_input(records: list[messages.Record], checkpointer: Checkpointer) -> Any:
    batch = messages.ProcessRecordsInput(
        {"action": "processRecords", "records": records, "millisBehindLatest": 0}
    )
    batch.dispatch(checkpointer, _Recorder())  # sets the checkpointer as the daemon does
    return batch


class _Recorder:
    def process_records(self, _: Any) -> None:
        return None


def build(
    store: InMemoryStates, topic: Topic, dlq: DeadLetterQueue, sleeps: list[float]
) -> AlertsRecordProcessor:
    clock_s = (START_MS + len(FALLING) * FIVE_MINUTES_MS) / 1000
    processor = AlertsRecordProcessor(
        AlertConsumer(store, topic, clock=lambda: clock_s), dlq, sleep=sleeps.append
    )
    processor.initialize(
        messages.InitializeInput(
            {
                "action": "initialize",
                "shardId": SHARD,
                "sequenceNumber": "TRIM_HORIZON",
                "subSequenceNumber": 0,
            }
        )
    )
    return processor


def test_a_batch_is_applied_then_checkpointed_at_its_last_record() -> None:
    store, topic, dlq, sleeps = InMemoryStates(), Topic(), DeadLetterQueue(), []
    checkpointer = Checkpointer()
    records = kcl_records()
    build(store, topic, dlq, sleeps).process_records(process_input(records, checkpointer))
    assert [a.kind.value for a in topic.sent] == ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]
    assert checkpointer.calls == [(records[-1].sequence_number, None)]
    assert store.load(patient(1)).outbox == []  # published before the checkpoint


def test_the_same_alerts_as_the_lambda_path() -> None:
    kcl_topic, lambda_topic = Topic(), Topic()
    build(InMemoryStates(), kcl_topic, DeadLetterQueue(), []).process_records(
        process_input(kcl_records(), Checkpointer())
    )
    clock_s = (START_MS + len(FALLING) * FIVE_MINUTES_MS) / 1000
    AlertConsumer(InMemoryStates(), lambda_topic, clock=lambda: clock_s).process(
        [
            InboundRecord(r.sequence_number, r.partition_key, r.binary_data, r.timestamp_millis)
            for r in kcl_records()
        ]
    )
    assert [a.alert_id for a in kcl_topic.sent] == [a.alert_id for a in lambda_topic.sent]


def test_a_new_lease_owner_re_applying_the_batch_pages_nothing_twice() -> None:
    store, topic, dlq = InMemoryStates(), Topic(), DeadLetterQueue()
    build(store, topic, dlq, []).process_records(process_input(kcl_records(), Checkpointer()))
    # The first owner lost its lease before its checkpoint reached the table: redelivered.
    build(store, topic, dlq, []).process_records(process_input(kcl_records(), Checkpointer()))
    assert len(topic.sent) == 3
    assert len({a.alert_id for a in topic.sent}) == 3


def test_a_poison_record_goes_to_the_dead_letter_queue_and_the_rest_is_applied() -> None:
    store, topic, dlq, sleeps = InMemoryStates(), Topic(), DeadLetterQueue(), []
    good = kcl_records()
    payloads = [r.binary_data for r in good]
    payloads.insert(3, b"\x00\x01 not an avro record")
    records = kcl_records(data=payloads)
    checkpointer = Checkpointer()
    processor = build(store, topic, dlq, sleeps)
    processor.process_records(process_input(records, checkpointer))
    (letter,) = dlq.bodies
    assert (letter["shard_id"], letter["sequence_number"]) == (SHARD, records[3].sequence_number)
    assert base64.b64decode(letter["data"]) == b"\x00\x01 not an avro record"
    assert "undecodable" in letter["reason"]
    assert [a.kind.value for a in topic.sent] == ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]
    assert checkpointer.calls == [(records[-1].sequence_number, None)]
    assert (processor.applied, processor.dead_lettered, sleeps) == (8, 1, [])


def test_a_transient_failure_is_retried_in_place_before_the_checkpoint() -> None:
    store, dlq, sleeps = InMemoryStates(), DeadLetterQueue(), []
    topic = Topic(fail_calls={1, 2})  # SNS down for the first two publishes
    checkpointer = Checkpointer()
    processor = build(store, topic, dlq, sleeps)
    processor.process_records(process_input(kcl_records(), checkpointer))
    assert sleeps == [1.0, 2.0]  # back-off, doubling
    assert [a.kind.value for a in topic.sent] == ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]
    assert len(checkpointer.calls) == 1


def test_checkpoint_throttling_is_retried_shutdown_ends_quietly_other_errors_raise() -> None:
    processor = build(InMemoryStates(), Topic(), DeadLetterQueue(), [])
    throttled = Checkpointer(["ThrottlingException"])
    processor.process_records(process_input(kcl_records(), throttled))
    assert len(throttled.calls) == 2
    shut = Checkpointer(["ShutdownException"])
    processor.process_records(process_input(kcl_records(2), shut))
    assert len(shut.calls) == 1
    with pytest.raises(CheckpointError):
        processor.process_records(
            process_input(kcl_records(3), Checkpointer(["InvalidStateException"]))
        )


def test_lease_lost_never_checkpoints_shard_end_and_shutdown_do() -> None:
    processor = build(InMemoryStates(), Topic(), DeadLetterQueue(), [])
    processor.lease_lost(messages.LeaseLostInput({"action": "leaseLost"}))
    ended = Checkpointer()
    shard_end = messages.ShardEndedInput({"action": "shardEnded"})
    shard_end.dispatch(ended, processor)
    assert ended.calls == [(None, None)]
    stopping = Checkpointer()
    request = messages.ShutdownRequestedInput({"action": "shutdownRequested"})
    request.dispatch(stopping, processor)
    assert stopping.calls == [(None, None)]


def test_the_start_each_batch_and_the_shard_end_are_reported_after_their_checkpoints() -> None:
    reports: list[dict[str, Any]] = []
    checkpointer = Checkpointer()
    clock_s = (START_MS + len(FALLING) * FIVE_MINUTES_MS) / 1000
    wall = iter([100.0, 101.5, 107.0])
    processor = AlertsRecordProcessor(
        AlertConsumer(InMemoryStates(), Topic(), clock=lambda: clock_s),
        DeadLetterQueue(),
        clock=lambda: next(wall),
        report=lambda counters: reports.append(
            {**counters, "checkpoints": len(checkpointer.calls)}
        ),
    )
    processor.initialize(
        messages.InitializeInput(
            {"action": "initialize", "shardId": SHARD, "sequenceNumber": "TRIM_HORIZON",
             "subSequenceNumber": 0}
        )
    )  # fmt: skip
    records = kcl_records()
    processor.process_records(process_input(records, checkpointer))
    messages.ShardEndedInput({"action": "shardEnded"}).dispatch(checkpointer, processor)
    batch = {
        "shard_id": SHARD,
        "records_succeeded": len(records),
        "records_discarded": 0,
        "retries": 0,
        "first_batch_at": 100.0,
        "last_batch_at": 101.5,
    }
    assert reports == [
        {
            **batch,
            "records_succeeded": 0,
            "first_batch_at": None,
            "last_batch_at": None,
            "shard_ended_at": None,
            "checkpoints": 0,
        },
        {**batch, "shard_ended_at": None, "checkpoints": 1},
        {**batch, "shard_ended_at": 107.0, "checkpoints": 2},
    ]
