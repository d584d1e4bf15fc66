"""The live feed drains its alerts queue (moto's SQS) a wave at a time, and deletes what it
showed, ten a request."""

from __future__ import annotations

import json

import boto3

from glucosestream.adapters.sqs_queue import SqsQueue
from glucosestream.dashboard.live import ALERT_RECEIVES_PER_POLL, LiveFeed
from glucosestream.domain.alerts import Alert, AlertKind, Severity
from glucosestream.domain.identity import alert_id
from glucosestream.settings import Settings
from tests.factories import START_MS, patient


def low(number: int) -> str:
    episode_start = START_MS + number * 3_600_000
    return json.dumps(
        Alert(
            alert_id=alert_id(patient(number), "LOW", episode_start),
            patient_id=patient(number),
            kind=AlertKind.LOW,
            severity=Severity.WARNING,
            measured_at=episode_start,
            utc_offset_minutes=0,
            glucose_mg_dl=65,
            episode_start=episode_start,
            rate_mg_dl_per_min=None,
            projected_mg_dl=None,
            raised_at=episode_start + 9_000,
        ).to_record()
    )


def queue_depth(queue: SqsQueue) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_wave_of_alerts_is_shown_in_one_poll_and_deleted(aws_mode: Settings) -> None:
    queue = SqsQueue(boto3.client("sqs"), aws_mode.names.dashboard_alerts_queue)
    for number in range(1, 26):
        queue.send(low(number))
    feed = LiveFeed(aws_mode, keep_alerts=500)
    feed.drain_alerts(queue)
    shown, _ = feed.alerts_since(0)
    assert sorted(a.patient_id for a in shown) == sorted(patient(n) for n in range(1, 26))
    assert queue_depth(queue) == 0


def test_a_poll_takes_at_most_its_bound_and_leaves_the_rest_for_the_next(
    aws_mode: Settings,
) -> None:
    queue = SqsQueue(boto3.client("sqs"), aws_mode.names.dashboard_alerts_queue)
    total = ALERT_RECEIVES_PER_POLL * 10 + 7
    for number in range(1, total + 1):
        queue.send(low(number))
    feed = LiveFeed(aws_mode, keep_alerts=500)
    feed.drain_alerts(queue)
    first, cursor = feed.alerts_since(0)
    assert len(first) == ALERT_RECEIVES_PER_POLL * 10
    assert queue_depth(queue) == 7
    feed.drain_alerts(queue)
    rest, _ = feed.alerts_since(cursor)
    assert len(rest) == 7
    assert {a.patient_id for a in [*first, *rest]} == {patient(n) for n in range(1, total + 1)}
    assert queue_depth(queue) == 0
