"""Alerts consumer: Kinesis (readings) → engine → DynamoDB state → SNS (alerts).

Deployed as a Lambda behind a Kinesis event-source mapping with ReportBatchItemFailures; run
locally by ``glucosestream.local.esm`` with the same event.

Failure contract (per shard, order matters):
- processing stops at the first failing record; it and every later record are reported failed,
  so the mapping resumes from it (Powertools' ``BatchProcessor`` would carry on past a failure and
  apply later records twice after the retry — powertools-lambda-python issue #2850);
- an undecodable record that is the first of its batch raises instead, so that
  bisect-on-function-error isolates it and the mapping's bounded retries send it to the
  on-failure queue rather than stalling the shard.

Logs carry counts and pseudonymous ids only: never glucose values.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

from glucosestream.adapters.alert_topic import AlertTopic
from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.patient_state import PatientStateStore
from glucosestream.alerts.consumer import AlertConsumer, BatchOutcome, InboundRecord
from glucosestream.domain.alerts import AlertConfig
from glucosestream.settings import Settings, load_settings

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "alerts")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "GlucoseStream")
logger = Logger()
metrics = Metrics()


class PoisonRecord(RuntimeError):
    """The batch starts with a record that cannot be decoded (raised for bisect-on-error)."""


def build_consumer(settings: Settings) -> AlertConsumer:
    """The composition root: the only place the real adapters are chosen."""
    store = PatientStateStore(aws_client("dynamodb", settings), settings.names.patient_state_table)
    topic = AlertTopic(aws_client("sns", settings), settings.topic_arn(settings.names.alerts_topic))
    config = AlertConfig(staleness_ms=settings.alert_staleness_minutes * 60_000)
    return AlertConsumer(store, topic, config)


@cache
def _consumer() -> AlertConsumer:
    return build_consumer(load_settings())


def inbound_from_event(event: dict[str, Any]) -> list[InboundRecord]:
    """The Kinesis records of a Lambda event (Powertools' data class parses the shape)."""
    parsed = KinesisStreamEvent(event)
    return [
        InboundRecord(
            sequence_number=record.kinesis.sequence_number,
            partition_key=record.kinesis.partition_key,
            data=record.kinesis.data_as_bytes(),
            arrived_at_ms=round(record.kinesis.approximate_arrival_timestamp * 1000),
        )
        for record in parsed.records
    ]


def respond(event: dict[str, Any], outcome: BatchOutcome) -> dict[str, Any]:
    """The partial batch response: the first failed record and every record after it."""
    if outcome.first_failed is None:
        return {"batchItemFailures": []}
    if outcome.first_failed == 0 and outcome.poison:
        raise PoisonRecord(outcome.reason)
    failed = event["Records"][outcome.first_failed :]
    return {
        "batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in failed]
    }


def handle(event: dict[str, Any], consumer: AlertConsumer) -> dict[str, Any]:
    outcome = consumer.process(inbound_from_event(event))
    metrics.add_metric("ReadingsProcessed", MetricUnit.Count, outcome.readings)
    metrics.add_metric("AlertsRaised", MetricUnit.Count, len(outcome.alerts))
    metrics.add_metric("AlertsPublished", MetricUnit.Count, outcome.published)
    metrics.add_metric("StateWrites", MetricUnit.Count, outcome.state_writes)
    metrics.add_metric("StateConflicts", MetricUnit.Count, outcome.conflicts)
    for alert in outcome.alerts:
        logger.info(
            "alert raised",
            extra={
                "patient_id": alert.patient_id,
                "kind": alert.kind.value,
                "alert_id": alert.alert_id,
            },
        )
    if outcome.first_failed is not None:
        logger.warning(
            "batch failed from a record",
            extra={
                "index": outcome.first_failed,
                "records": len(event["Records"]),
                "reason": outcome.reason,
            },
        )
    return respond(event, outcome)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return handle(event, _consumer())
    finally:
        # Flushed here rather than with @metrics.log_metrics: with POWERTOOLS_METRICS_DISABLED
        # that decorator neither prints nor clears, and the growing metric set prints itself
        # once a metric holds 100 values.
        if is_metrics_disabled():
            metrics.clear_metrics()
        else:
            metrics.flush_metrics()
