"""Kinesis → event-source mapping → alerts handler → DynamoDB → SNS → SQS, on the local stack."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.adapters.sqs_queue import SqsQueue
from glucosestream.contract.entries import Entry
from glucosestream.local.esm import EventSourceMapping, MappingConfig
from glucosestream.settings import Settings
from tests.factories import patient, reading

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(stack_env: Settings) -> Iterator[Settings]:
    from consumers.alerts import handler

    handler._consumer.cache_clear()
    yield stack_env
    handler._consumer.cache_clear()
    shutil.rmtree(stack_env.state_dir / "esm", ignore_errors=True)


def drain(queue: str, settings: Settings) -> list[dict[str, Any]]:
    feed = SqsQueue(aws_client("sqs", settings), queue)
    out = []
    while True:
        messages = feed.receive(wait_s=1)
        if not messages:
            return out
        for message in messages:
            out.append(json.loads(message.body))
            feed.delete(message)


def mapping(settings: Settings) -> EventSourceMapping:
    from consumers.alerts.handler import lambda_handler

    dlq = aws_client("sqs", settings).get_queue_url(QueueName=settings.names.alerts_dlq)
    config = MappingConfig(
        batch_size=50,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=2,
        on_failure_queue_url=dlq["QueueUrl"],
        starting_position="LATEST",
    )
    return EventSourceMapping("alerts-it", settings, lambda_handler, config)


def drive(esm: EventSourceMapping, until: Callable[[], bool], timeout_s: float = 30) -> None:
    """Poll until ``until()`` holds (retries back off in real time, so passes alone do not do)."""
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, f"mapping did not get there: {esm.stats}"
        if esm.poll_once() == 0:
            time.sleep(0.05)


def falling(patient_number: int, start: int) -> list:
    """A fall into hypoglycaemia from ``start`` on (5-minute readings; the demo's accelerated
    clock also runs ahead of the wall clock, so nothing here is late)."""
    values = [92, 84, 76, 69, 63, 58, 52, 49]
    return [
        reading(
            patient_id=patient(patient_number),
            device_id=f"g7-{patient_number}",
            measured_at=start + i * 300_000,
            produced_at=start + i * 300_000 + 5_000,
            glucose_mg_dl=v,
        )
        for i, v in enumerate(values)
    ]


def test_a_falling_patient_pages_through_the_whole_local_path(settings: Settings) -> None:
    esm = mapping(settings)
    esm.poll_once()  # take the LATEST position before publishing
    stream = readings_stream(settings)
    now_ms = int(time.time() * 1000)
    Producer(stream).publish(falling(21, now_ms) + falling(22, now_ms - 3_600_000 * 3))
    drive(esm, lambda: esm.stats.records_succeeded >= 16)
    alerts = drain(settings.names.alerts_feed_queue, settings)
    # Patient 22's readings are three hours old on arrival: late uploads never page.
    assert [(a["patient_id"], a["kind"]) for a in alerts] == [
        (patient(21), "URGENT_LOW_SOON"),
        (patient(21), "LOW"),
        (patient(21), "URGENT_LOW"),
    ]

    # Replaying the stream from the start (checkpoints lost) pages nothing again.
    shutil.rmtree(settings.state_dir / "esm" / "alerts-it")
    replay = mapping(settings)
    replay_config = MappingConfig(**{**replay.config.__dict__, "starting_position": "TRIM_HORIZON"})
    replay = EventSourceMapping("alerts-it", settings, replay.function, replay_config)
    drive(replay, lambda: replay.stats.records_succeeded >= 16)
    assert drain(settings.names.alerts_feed_queue, settings) == []


def test_a_poison_record_ends_in_the_dead_letter_queue_and_the_rest_flows(
    settings: Settings,
) -> None:
    esm = mapping(settings)
    esm.poll_once()
    stream = readings_stream(settings)
    key = patient(23)
    stream.put_batch([Entry(b"\xc3\x01 this is not avro", key)])
    Producer(stream).publish(falling(23, int(time.time() * 1000)))
    drive(esm, lambda: esm.stats.records_succeeded >= 8 and esm.stats.on_failure_messages >= 1)
    failures = drain(settings.names.alerts_dlq, settings)
    assert len(failures) == 1
    assert failures[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failures[0]["KinesisBatchInfo"]["batchSize"] == 1
    kinds = [a["kind"] for a in drain(settings.names.alerts_feed_queue, settings)]
    assert kinds == ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]
    assert os.path.isdir(settings.state_dir / "esm" / "alerts-it")
