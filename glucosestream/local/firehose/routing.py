"""Where each record the transform answered for goes: ``Ok`` data into the buffer of its
``dt``/``hour`` partition; ``Dropped`` nowhere; ``ProcessingFailed`` (and ``Ok`` without data or
valid partition keys) to the processing-failed error output, its raw bytes preserved; JSON that
does not convert to the raw schema, to the format-conversion-failed output. Error documents take
the shape of Firehose's and go to the partition of their arrival time."""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from glucosestream.contract.kpl import UserRecord
from glucosestream.lake.raw_zone.transform import (
    DROPPED,
    PROCESSING_FAILED,
    failure_reason,
    partition_of,
)
from glucosestream.local.firehose.bookkeeping import DeliveryStats, Source
from glucosestream.local.firehose.buffering import (
    FORMAT_CONVERSION_FAILED_OUTPUT,
    PROCESSING_FAILED_OUTPUT,
    ErrorOutputType,
    PartitionBuffers,
)
from glucosestream.local.firehose.invocation import b64

_DT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR = re.compile(r"^([01]\d|2[0-3])$")


class Router:
    """Sends transformed records, and failed ones, to their buffers."""

    def __init__(
        self,
        buffers: PartitionBuffers,
        stats: DeliveryStats,
        clock: Callable[[], float],
        lambda_arn: str,
    ) -> None:
        self.buffers = buffers
        self.stats = stats
        self._clock = clock
        self.lambda_arn = lambda_arn
        self._valid_partitions: set[tuple[str, str]] = set()

    def route(
        self, source: Source, user: UserRecord, output: dict[str, Any], attempts: int
    ) -> None:
        result = output["result"]
        if result == DROPPED:
            self.stats.dropped += 1
            source.outstanding -= 1
            return
        if result == PROCESSING_FAILED:
            kind, message = failure_reason(output)
            self.fail(source, user, "Lambda.ProcessingFailed", kind, message, attempts)
            return
        keys = (output.get("metadata") or {}).get("partitionKeys") or {}
        partition = (str(keys.get("dt", "")), str(keys.get("hour", "")))
        try:
            data = binascii.a2b_base64(output.get("data") or "", strict_mode=True)
        except (binascii.Error, ValueError, TypeError):
            data = b""
        if partition not in self._valid_partitions:
            if _DT.match(partition[0]) and _HOUR.match(partition[1]):
                self._valid_partitions.add(partition)
            else:
                data = b""
        if not data:
            self.fail(
                source,
                user,
                "DynamicPartitioning.MetadataExtractionFailed",
                "partition",
                "Ok record without data or without valid dt/hour partition keys",
                attempts,
            )
            return
        if not data.endswith(b"\n"):
            data += b"\n"
        self.buffers.add_raw(*partition, data, source)

    def fail(
        self,
        source: Source,
        user: UserRecord,
        error_code: str,
        kind: str,
        message: str,
        attempts: int,
    ) -> None:
        """Send a record to the processing-failed error output, its raw bytes preserved."""
        self._error_document(
            source,
            {
                "attemptsMade": attempts,
                "arrivalTimestamp": source.arrival_ms,
                "errorCode": error_code,
                "errorMessage": message,
                "errorKind": kind,
                "attemptEndingTimestamp": int(self._clock() * 1000),
                "rawData": b64(user.data),
                "lambdaArn": self.lambda_arn,
                "shardId": source.shard_id,
                "sequenceNumber": source.sequence_number,
                "subSequenceNumber": user.sub_sequence,
                "partitionKey": user.partition_key,
            },
            PROCESSING_FAILED_OUTPUT,
        )

    def conversion_failed(self, source: Source, transformed: bytes, reason: str) -> None:
        """Send transformed JSON that does not convert to the raw schema to the
        format-conversion-failed error output (the record stays outstanding until it lands)."""
        self._error_document(
            source,
            {
                "attemptsMade": 1,
                "arrivalTimestamp": source.arrival_ms,
                "errorCode": "DataFormatConversion.MalformedData",
                "errorMessage": reason,
                "errorKind": "format",
                "attemptEndingTimestamp": int(self._clock() * 1000),
                # Firehose's rawData for a conversion failure is the transformed record.
                "rawData": b64(transformed),
                "shardId": source.shard_id,
                "sequenceNumber": source.sequence_number,
            },
            FORMAT_CONVERSION_FAILED_OUTPUT,
        )

    def _error_document(
        self, source: Source, document: dict[str, Any], output_type: ErrorOutputType
    ) -> None:
        line = (json.dumps(document, separators=(",", ":")) + "\n").encode()
        dt, hour = partition_of(source.arrival_ms)
        self.buffers.add_error(dt, hour, output_type, line, source)
