"""Alerts consumer as a Kinesis Client Library application (``amazon_kclpy`` v3 interface).

The MultiLangDaemon (Java: leases, load balancing, resharding) runs this module as its record
processor; each shard gets one :class:`AlertsRecordProcessor`. It applies the same
:class:`~glucosestream.alerts.consumer.AlertConsumer` as the Lambda handler (Avro and KPL
decoding, one conditional DynamoDB write per patient with the outbox, SNS publish), so the
alert ids of both paths are the same for the same stream.

Delivery contract (KCL: nothing is redelivered to a live processor, so it retries itself):
- a batch is checkpointed only after every record of it has been applied (state written,
  outbox published), at the batch's last sequence number;
- a record that cannot be decoded is sent to the dead-letter queue (as the Lambda's on-failure
  destination does) and skipped; the records after it are applied;
- any other failure retries the batch from the failed record, with back-off (1 s doubling to
  30 s): later records of the shard wait, so per-patient order holds; records of other
  patients applied meanwhile are duplicates the engine drops;
- lease lost: no checkpoint (another worker owns the shard); shard end: checkpoint, as the KCL
  requires before the child shards start; shutdown requested: checkpoint what was applied.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from amazon_kclpy import kcl
from amazon_kclpy.checkpoint_error import CheckpointError
from amazon_kclpy.v3 import processor

from glucosestream.alerts.consumer import AlertConsumer, InboundRecord

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
CHECKPOINT_ATTEMPTS = 5


class DeadLetters(Protocol):
    def send(self, body: str) -> str: ...


def dead_letter(shard_id: str, record: InboundRecord, reason: str) -> str:
    """The dead-letter message of a record that cannot be decoded: enough to find it again
    (shard, sequence number) and to inspect it (its data, base64)."""
    return json.dumps(
        {
            "source": "alerts-kcl",
            "shard_id": shard_id,
            "sequence_number": record.sequence_number,
            "partition_key": record.partition_key,
            "approximate_arrival_ms": record.arrived_at_ms,
            "data": base64.b64encode(record.data).decode(),
            "reason": reason,
        },
        separators=(",", ":"),
    )


Report = Callable[[dict[str, Any]], None]
"""Takes the processor's counters after each batch (the local worker's stats file)."""


class AlertsRecordProcessor(processor.RecordProcessorBase):  # type: ignore[misc]
    def __init__(
        self,
        consumer: AlertConsumer,
        dead_letters: DeadLetters,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        report: Report | None = None,
    ) -> None:
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.sleep = sleep
        self.clock = clock
        self.report = report
        self.shard_id = ""
        self.applied = 0
        self.dead_lettered = 0
        self.retries = 0
        self.first_batch_at: float | None = None
        self.last_batch_at: float | None = None
        self.ended_at: float | None = None

    def initialize(self, initialize_input: Any) -> None:
        self.shard_id = str(initialize_input.shard_id)
        if self.report is not None:
            self.report(self.counters())  # a shard that never gets a record is seen started

    def process_records(self, process_records_input: Any) -> None:
        kcl_records = list(process_records_input.records)
        if not kcl_records:
            return
        if self.first_batch_at is None:
            self.first_batch_at = self.clock()
        self.apply(
            [
                InboundRecord(
                    sequence_number=str(r.sequence_number),
                    partition_key=str(r.partition_key),
                    data=bytes(r.binary_data),
                    arrived_at_ms=int(r.timestamp_millis),
                )
                for r in kcl_records
            ]
        )
        last = kcl_records[-1]
        self._checkpoint(
            process_records_input.checkpointer, str(last.sequence_number), last.sub_sequence_number
        )
        self.last_batch_at = self.clock()
        if self.report is not None:
            self.report(self.counters())

    def counters(self) -> dict[str, Any]:
        """What this processor did (the names of the Lambda mapping's counters), and when: its
        first batch began, its last batch was checkpointed, its shard's end was checkpointed
        (epoch seconds; None until then) — a reshard's order is read from these."""
        return {
            "shard_id": self.shard_id,
            "records_succeeded": self.applied,
            "records_discarded": self.dead_lettered,
            "retries": self.retries,
            "first_batch_at": self.first_batch_at,
            "last_batch_at": self.last_batch_at,
            "shard_ended_at": self.ended_at,
        }

    def apply(self, records: Sequence[InboundRecord]) -> None:
        """Apply every record, in order: poison ones to the dead-letter queue, transient
        failures retried from the failed record until they succeed."""
        pending = list(records)
        delay = RETRY_FIRST_S
        while pending:
            outcome = self.consumer.process(pending)
            if outcome.first_failed is None:
                self.applied += len(pending)
                return
            failed = outcome.first_failed
            self.applied += failed
            if outcome.poison:
                self.dead_letters.send(
                    dead_letter(self.shard_id, pending[failed], outcome.reason or "undecodable")
                )
                self.dead_lettered += 1
                pending = pending[failed + 1 :]
                delay = RETRY_FIRST_S
                continue
            self.retries += 1
            pending = pending[failed:]
            self.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    def _checkpoint(
        self, checkpointer: Any, sequence_number: str | None, sub_sequence: int | None = None
    ) -> None:
        for attempt in range(CHECKPOINT_ATTEMPTS):
            try:
                checkpointer.checkpoint(sequence_number, sub_sequence)
                return
            except CheckpointError as error:
                if error.value == "ShutdownException":
                    return  # the lease is gone: the next owner re-applies (duplicates dropped)
                if error.value != "ThrottlingException" or attempt == CHECKPOINT_ATTEMPTS - 1:
                    raise
                self.sleep(RETRY_FIRST_S * 2**attempt)

    def lease_lost(self, lease_lost_input: Any) -> None:
        """Another worker owns the shard now: nothing to checkpoint (the KCL forbids it)."""

    def shard_ended(self, shard_ended_input: Any) -> None:
        self._checkpoint(shard_ended_input.checkpointer, None)
        self.ended_at = self.clock()
        if self.report is not None:
            self.report(self.counters())

    def shutdown_requested(self, shutdown_requested_input: Any) -> None:
        self._checkpoint(shutdown_requested_input.checkpointer, None)


def main() -> None:
    """The composition root: the consumer of the Lambda handler, the dead-letter queue."""
    from consumers.alerts.handler import build_consumer
    from glucosestream.adapters.clients import aws_client
    from glucosestream.adapters.sqs_queue import SqsQueue
    from glucosestream.settings import load_settings

    settings = load_settings()
    dead_letters = SqsQueue(aws_client("sqs", settings), settings.names.alerts_dlq)
    report = None
    if settings.mode == "local":
        from glucosestream.local.kcl import processor_reporter

        report = processor_reporter(settings)
    consumer = build_consumer(settings)
    kcl.KCLProcess(AlertsRecordProcessor(consumer, dead_letters, report=report)).run()


if __name__ == "__main__":
    main()
