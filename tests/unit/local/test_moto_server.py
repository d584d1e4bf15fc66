"""The local stack's moto server: its module list is read once (keep-alive: see
tests/integration/test_local_stack.py)."""

from __future__ import annotations

import os

import moto.backends
import pytest

from glucosestream.local import moto_server


def test_moto_lists_its_service_modules_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto.backends, "list_of_moto_modules", moto.backends.list_of_moto_modules)
    listed = list(moto.backends.list_of_moto_modules())
    moto_server.list_service_modules_once()

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr(os, "listdir", no_listing)
    assert list(moto.backends.list_of_moto_modules()) == listed
    assert {"dynamodb", "sns", "sqs", "s3", "glue", "athena"} <= set(listed)


def test_moto_lists_a_response_class_methods_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests still reach their handlers, and a response class's methods are listed once."""
    import inspect

    import boto3
    import moto.core.responses
    from moto import mock_aws

    monkeypatch.setattr(
        moto.core.responses,
        "method_names_from_class",
        moto.core.responses.method_names_from_class,
    )
    moto_server.list_action_methods_once()
    listed: list[object] = []
    getmembers = inspect.getmembers

    def counted(target: object, predicate: object = None) -> list[tuple[str, object]]:
        listed.append(target)
        return getmembers(target, predicate)  # type: ignore[arg-type]

    monkeypatch.setattr(inspect, "getmembers", counted)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for body in ("one", "two", "three"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "three", "two"]
    assert len(listed) == len(set(map(id, listed))) == 1  # SQSResponse, once for 5 requests


def test_sqs_checks_retention_without_counting_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message within the retention period is received, one past it is not, and no receive
    computes the queue's attributes (their message counts pass over every message)."""
    import boto3
    from moto import mock_aws
    from moto.sqs.models import Queue, SQSBackend

    monkeypatch.setattr(
        SQSBackend,
        "is_message_valid_based_on_retention_period",
        SQSBackend.is_message_valid_based_on_retention_period,
    )
    moto_server.check_retention_directly()

    def counted(self: Queue) -> dict[str, object]:
        raise AssertionError("the queue's attributes were computed")

    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})[
            "QueueUrl"
        ]
        sqs.send_message(QueueUrl=url, MessageBody="kept")
        sqs.send_message(QueueUrl=url, MessageBody="expired")
        backend = moto.backends.get_backend("sqs")["123456789012"]["eu-west-1"]
        (_, expired) = backend.get_queue("q")._messages
        expired.sent_timestamp -= 61_000
        monkeypatch.setattr(Queue, "attributes", property(counted))
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == ["kept"]


def test_sqs_sends_without_counting_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sends to a standard queue, through SNS, and to FIFO queues with and without content-based
    deduplication behave as moto's own (deduplicated, refused), with no send computing the
    queue's attributes; GetQueueAttributes still answers all of them."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws
    from moto.sqs.models import Queue, SQSBackend

    monkeypatch.setattr(Queue, "attributes", vars(Queue)["attributes"])
    monkeypatch.setattr(SQSBackend, "send_message", SQSBackend.send_message)
    computed: list[str] = []
    every_attribute = vars(Queue)["attributes"].fget

    def counted(self: Queue) -> dict[str, object]:
        computed.append(self.name)
        return every_attribute(self)  # type: ignore[no-any-return]

    monkeypatch.setattr(Queue, "attributes", property(counted))
    moto_server.read_deduplication_directly()

    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        sns = boto3.client("sns", region_name="eu-west-1")
        plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
        deduplicated = sqs.create_queue(
            QueueName="dedup.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        explicit = sqs.create_queue(QueueName="explicit.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        plain_arn = sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=plain_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        computed.clear()

        sqs.send_message(QueueUrl=plain, MessageBody="direct")
        sns.publish(TopicArn=topic, Message="published")
        for _ in range(2):
            sqs.send_message(QueueUrl=deduplicated, MessageBody="same", MessageGroupId="g")
        with pytest.raises(ClientError, match="ContentBasedDeduplication"):
            sqs.send_message(QueueUrl=explicit, MessageBody="no id", MessageGroupId="g")
        assert computed == []

        def bodies(url: str) -> list[str]:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            return sorted(m["Body"] for m in got.get("Messages", []))

        assert bodies(plain) == ["direct", "published"]
        assert bodies(deduplicated) == ["same"]
        assert bodies(explicit) == []
        every = sqs.get_queue_attributes(QueueUrl=deduplicated, AttributeNames=["All"])
        assert every["Attributes"]["ContentBasedDeduplication"] == "true"
        assert every["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
