"""Firehose transform Lambda: Kinesis Avro records → JSON for Parquet, partitioned by dt/hour.

Firehose (source: the readings stream) invokes this function with batches of records; each comes
back ``Ok`` with one JSON line per reading and ``metadata.partitionKeys`` {dt, hour} of
``measured_at`` (UTC), or ``ProcessingFailed``, which Firehose writes, raw bytes preserved, to the
error prefix. Nothing is dropped. The logic lives in :mod:`glucosestream.lake.raw_zone.transform`;
the
local delivery worker calls the same function.

Deployment (Terraform): record format conversion to Parquet with the Glue table generated from
the Avro schema (``schemas/glucose_reading.glue.json``), Hive JSON SerDe with
``TimestampFormats = ["millis"]``; dynamic partitioning (never on patient: Firehose caps active
partitions at 500) with the prefix and error prefix::

    raw/readings/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/
    errors/readings/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/

Logs carry counts, error kinds and sequence numbers: never glucose values, never record data.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KinesisFirehoseEvent

from glucosestream.lake.raw_zone.transform import PROCESSING_FAILED, failure_reason, transform_event

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "firehose-transform")
logger = Logger()


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Transform one Firehose event and log what failed (kinds and positions only)."""
    response = transform_event(event)
    firehose = KinesisFirehoseEvent(event)
    failed = [
        (source, output)
        for source, output in zip(firehose.records, response["records"], strict=True)
        if output["result"] == PROCESSING_FAILED
    ]
    if not failed:
        logger.debug("records transformed", extra={"records": len(response["records"])})
        return response
    kinds = Counter(failure_reason(output)[0] for _, output in failed)
    logger.warning(
        "records failed the transform",
        extra={
            "invocation_id": firehose.get("invocationId"),
            "records": len(response["records"]),
            "failed": len(failed),
            "kinds": dict(kinds),
        },
    )
    for source, output in failed:
        metadata = source.metadata
        logger.info(
            "record failed",
            extra={
                "record_id": source.record_id,
                "shard_id": metadata.get("shardId") if metadata else None,
                "sequence_number": metadata.get("sequenceNumber") if metadata else None,
                "error_kind": failure_reason(output)[0],
            },
        )
    return response


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)
