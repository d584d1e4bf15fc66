"""Create every AWS resource the pipeline uses on the local stack, idempotently.

In AWS, Terraform creates these; the names come from the same :class:`ResourceNames`.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream, stream_named
from glucosestream.settings import Settings


@dataclass(frozen=True)
class ProvisionedResources:
    stream: str
    table: str
    topics: dict[str, str]
    """Topic name → ARN."""
    queues: dict[str, str]
    """Queue name → URL."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "table": self.table,
            "topics": self.topics,
            "queues": self.queues,
        }


def provision(settings: Settings) -> ProvisionedResources:
    names = settings.names
    readings_stream(settings).ensure(settings.stream_shards)
    # Treatments and erasures are a few per patient per day: one shard, as Terraform deploys.
    for name in (names.treatments_stream, names.erasures_stream):
        stream_named(settings, name).ensure(1)
    dynamodb = aws_client("dynamodb", settings)
    _ensure_table(dynamodb, names.patient_state_table, ("patient_id",))
    _ensure_table(dynamodb, names.nightscout_table, ("patient_id", "doc_key"))

    sns = aws_client("sns", settings)
    sqs = aws_client("sqs", settings)
    # create_topic and create_queue return the existing resource when called again.
    topics = {
        name: sns.create_topic(Name=name)["TopicArn"]
        for name in (names.alerts_topic, names.pipeline_topic)
    }
    queues = {
        name: sqs.create_queue(QueueName=name)["QueueUrl"]
        for name in (
            names.alerts_dlq,
            names.alerts_feed_queue,
            names.dashboard_alerts_queue,
            names.pipeline_feed_queue,
        )
    }
    _subscribe(sns, sqs, topics[names.alerts_topic], queues[names.alerts_feed_queue])
    _subscribe(sns, sqs, topics[names.alerts_topic], queues[names.dashboard_alerts_queue])
    _subscribe(sns, sqs, topics[names.pipeline_topic], queues[names.pipeline_feed_queue])
    settings.lake_dir.mkdir(parents=True, exist_ok=True)
    return ProvisionedResources(names.readings_stream, names.patient_state_table, topics, queues)


def _ensure_table(dynamodb: Any, table: str, key: tuple[str, ...], timeout_s: float = 30.0) -> None:
    """A table keyed by ``key`` (hash, then range; strings) with the ``expires_at`` TTL."""
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in key],
            KeySchema=[
                {"AttributeName": name, "KeyType": kind}
                for name, kind in zip(key, ("HASH", "RANGE"), strict=False)
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    deadline = time.monotonic() + timeout_s
    while dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table} not ACTIVE after {timeout_s:.0f} s")
        time.sleep(0.1)
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


def _subscribe(sns: Any, sqs: Any, topic_arn: str, queue_url: str) -> None:
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    existing = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if any(sub["Endpoint"] == queue_arn for sub in existing):
        return
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
