"""The SQS adapter against moto: what is sent is received once and gone once deleted."""

from __future__ import annotations

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
