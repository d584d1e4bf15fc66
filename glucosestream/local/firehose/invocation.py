"""The transform Lambda, invoked as Firehose invokes it: the transformation event (base64 data,
``kinesisRecordMetadata``), a context, retries of an invocation that raises or answers malformed,
and the check that the response has exactly one output record per input record."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from glucosestream.contract.kpl import UserRecord
from glucosestream.lake.raw_zone.transform import DROPPED, OK, PROCESSING_FAILED, redact
from glucosestream.local.firehose.bookkeeping import DeliveryStats, Source
from glucosestream.local.lambda_runtime import LambdaContext, invocation_context

logger = logging.getLogger(__name__)

Transform = Callable[[dict[str, Any], Any], Any]
"""``lambda_handler(event, context)`` of a Firehose transform."""

DEFAULT_INVOCATION_BYTES = 1024 * 1024
"""Firehose's Lambda processor buffer size (default 1 MiB of source data per invocation)."""
DEFAULT_TRANSFORM_RETRIES = 3
"""Firehose retries a failed transform invocation three times by default."""

_RESULTS = (OK, DROPPED, PROCESSING_FAILED)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def default_transform() -> Transform:
    # Imported here: glucosestream must import without the Lambda package's Powertools set-up.
    from consumers.firehose_transform.handler import lambda_handler

    handler: Transform = lambda_handler
    return handler


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, retries included."""

    outputs: list[dict[str, Any]] | None
    """One output record per input record, in the batch's order; None: the invocation failed."""
    problem: str
    """Why the last attempt failed (the error's type and redacted message)."""
    attempts: int


class TransformInvoker:
    """Calls the transform on batches of user records, as the delivery stream does."""

    def __init__(
        self,
        transform: Transform,
        *,
        region: str,
        delivery_stream_arn: str,
        source_arn: str,
        function_name: str,
        function_arn: str,
        retries: int,
        stats: DeliveryStats,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        label: str,
    ) -> None:
        self.transform = transform
        self.region = region
        self.delivery_stream_arn = delivery_stream_arn
        self.source_arn = source_arn
        self.function_name = function_name
        self.function_arn = function_arn
        self.retries = retries
        self.stats = stats
        self._clock = clock
        self._sleep = sleep
        self.label = label

    def invoke(self, batch: Sequence[tuple[Source, UserRecord]]) -> Invocation:
        record_ids = [f"{s.shard_id}:{s.sequence_number}:{u.sub_sequence}" for s, u in batch]
        event = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.delivery_stream_arn,
            "sourceKinesisStreamArn": self.source_arn,
            "region": self.region,
            "records": [
                {
                    "recordId": record_id,
                    "approximateArrivalTimestamp": source.arrival_ms,
                    "data": b64(user.data),
                    "kinesisRecordMetadata": {
                        "sequenceNumber": source.sequence_number,
                        "subsequenceNumber": user.sub_sequence,
                        "partitionKey": user.partition_key,
                        "shardId": source.shard_id,
                        "approximateArrivalTimestamp": source.arrival_ms,
                    },
                }
                for record_id, (source, user) in zip(record_ids, batch, strict=True)
            ],
        }
        outputs: dict[str, dict[str, Any]] | None = None
        problem = ""
        attempts = 0
        for attempt in range(self.retries + 1):
            attempts = attempt + 1
            self.stats.invocations += 1
            try:
                outputs = self._outputs(self.transform(event, self._context()), record_ids)
                break
            except Exception as error:  # the function's error, whatever it is
                self.stats.invocation_failures += 1
                problem = f"{type(error).__name__}: {redact(str(error))}"
                logger.warning(
                    "firehose %s: transform invocation failed (attempt %d): %s",
                    self.label,
                    attempts,
                    type(error).__name__,
                )
                if attempt < self.retries:
                    self._sleep(min(2.0, 0.05 * 2**attempt))
        if outputs is None:
            return Invocation(None, problem, attempts)
        return Invocation([outputs[record_id] for record_id in record_ids], problem, attempts)

    def _context(self) -> LambdaContext:
        return invocation_context(
            self.function_name,
            self.function_arn,
            memory_limit_in_mb=256,
            timeout_s=60.0,
            clock=self._clock,
        )

    @staticmethod
    def _outputs(response: Any, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Output records by id; raises ValueError unless there is exactly one per input."""
        if not isinstance(response, dict) or not isinstance(response.get("records"), list):
            raise ValueError("the response is not {'records': [...]}")
        outputs: dict[str, dict[str, Any]] = {}
        for output in response["records"]:
            if not isinstance(output, dict) or output.get("result") not in _RESULTS:
                raise ValueError("an output record has no valid result")
            outputs[str(output.get("recordId"))] = output
        if len(outputs) != len(response["records"]) or outputs.keys() != set(record_ids):
            # Firehose treats any mismatch of record ids as a transformation failure.
            raise ValueError("the output record ids do not match the input record ids")
        return outputs
