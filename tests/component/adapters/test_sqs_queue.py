"""The SQS adapter against moto: what is sent is received once and gone once deleted."""

from __future__ import annotations

import dataclasses

import boto3

from glucosestream.adapters.sqs_queue import SqsQueue
from glucosestream.settings import Settings


def test_send_receive_delete(aws_mode: Settings) -> None:
    queue = SqsQueue(boto3.client("sqs"), aws_mode.names.alerts_dlq)
    message_id = queue.send('{"reason": "undecodable record (avro)"}')
    assert message_id
    (message,) = queue.receive(wait_s=0)
    assert message.body == '{"reason": "undecodable record (avro)"}'
    queue.delete(message)
    assert queue.receive(wait_s=0) == []


def test_delete_many_deletes_in_batches_of_ten_and_returns_what_sqs_refused(
    aws_mode: Settings,
) -> None:
    queue = SqsQueue(boto3.client("sqs"), aws_mode.names.alerts_dlq)
    for index in range(23):
        queue.send(f'{{"n": {index}}}')
    received = []
    while batch := queue.receive(wait_s=0):
        received.extend(batch)
    assert sorted(m.body for m in received) == sorted(f'{{"n": {i}}}' for i in range(23))
    stale = dataclasses.replace(received[4], receipt_handle="not-a-receipt-handle")
    failed = queue.delete_many([*received[:4], stale, *received[5:]])
    assert failed == [stale]
    # Only the message whose receipt handle was refused is still in the queue (in flight).
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
