"""Publish readings (or treatments) to Kinesis: contract-sized batches, retries of only what
failed, no silent loss.

PutRecords can partly fail (throttling, internal errors): the failed entries, and only they, are
retried with capped exponential backoff and full jitter ("Exponential Backoff And Jitter", AWS
Architecture Blog, 2015). When a batch has not got through after ``give_up_after_s``,
:class:`PublishError` says how many readings were sent and carries the ones that were not.

Order: Kinesis keeps per-shard order only between calls, so a retried entry can land after a later
reading of the same patient. Every consumer orders by ``measured_at`` and dedupes on the reading's
identity, so this costs nothing downstream.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from glucosestream.adapters.kinesis import KinesisStream, batches
from glucosestream.contract.codec import READING_SCHEMA, Codec, default_codec
from glucosestream.contract.entries import Entry
from glucosestream.contract.kpl import DEFAULT_AGGREGATE_BYTES, aggregate
from glucosestream.domain.reading import GlucoseReading

RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "KMSThrottlingException",
        "InternalFailure",
        "ServiceUnavailable",
        "ThrottlingException",
    }
)

SHARD_MAP_TTL_S = 30.0


class ContractEvent(Protocol):
    """What the producer puts on a stream: a contract record keyed by its patient (a
    :class:`~glucosestream.domain.reading.GlucoseReading` or a
    :class:`~glucosestream.domain.treatment.GlucoseTreatment`)."""

    @property
    def patient_id(self) -> str: ...

    def to_record(self) -> dict[str, Any]: ...


Pending = tuple[Entry, list[Any]]
"""A Kinesis entry and the events it carries (one, or many when aggregated)."""


@dataclass
class PublishReport:
    sent: int = 0
    """Readings Kinesis accepted."""
    kinesis_records: int = 0
    """Kinesis records accepted (fewer than readings when aggregating)."""
    put_calls: int = 0
    retried_entries: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)


class PublishError(RuntimeError):
    """Publishing stopped; ``unsent`` holds the readings of the stuck batch Kinesis did not
    accept (readings after that batch were not attempted)."""

    def __init__(self, message: str, report: PublishReport, unsent: list[GlucoseReading]):
        super().__init__(message)
        self.report = report
        self.unsent = unsent


def _entry(pending: Pending) -> Entry:
    return pending[0]


class Producer:
    """Encodes readings (or, with ``schema``, other contract events) with the contract codec and
    puts them with PutRecords, keyed by patient."""

    def __init__(
        self,
        stream: KinesisStream,
        codec: Codec | None = None,
        *,
        give_up_after_s: float = 60.0,
        base_delay_s: float = 0.05,
        max_delay_s: float = 2.0,
        aggregate: bool = False,
        aggregate_bytes: int = DEFAULT_AGGREGATE_BYTES,
        schema: str = READING_SCHEMA,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.stream = stream
        self.codec = codec or default_codec()
        self.give_up_after_s = give_up_after_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.aggregate = aggregate
        self.aggregate_bytes = aggregate_bytes
        self.schema = schema
        self._ranges: tuple[float, list[tuple[int, int]]] | None = None
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy

    def encode(self, readings: Iterable[ContractEvent]) -> Iterator[Pending]:
        """Kinesis entries for the readings: one each, or KPL aggregates of many."""
        encode = self.codec.encode
        schema = self.schema
        # validated=True: the domain types check their own fields on construction.
        single = (
            (Entry(encode(event.to_record(), schema, validated=True), event.patient_id), event)
            for event in readings
        )
        if self.aggregate:
            yield from aggregate(single, self.aggregate_bytes, self._shard_ranges())
        else:
            for entry, reading in single:
                yield entry, [reading]

    def _shard_ranges(self) -> list[tuple[int, int]]:
        """The open shards' hash ranges, refreshed now and then (a reshard changes them)."""
        now = self._clock()
        if self._ranges is None or now - self._ranges[0] > SHARD_MAP_TTL_S:
            self._ranges = (now, self.stream.shard_hash_ranges())
        return self._ranges[1]

    def publish(self, readings: Iterable[ContractEvent]) -> PublishReport:
        """Put every reading; returns counts, or raises PublishError with what was not sent."""
        report = PublishReport()
        for batch in batches(self.encode(readings), _entry):
            self._put_until_accepted(batch, report)
        return report

    def _put_until_accepted(self, batch: list[Pending], report: PublishReport) -> None:
        pending = batch
        attempt = 0
        started = self._clock()
        while True:
            report.put_calls += 1
            try:
                result = self.stream.put_batch([entry for entry, _ in pending])
                failed = [pending[i] for i in result.failed]
                codes = result.error_codes
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "ClientError")
                if code not in RETRYABLE_ERROR_CODES:
                    raise self._give_up(
                        f"Kinesis refused the batch ({code})", report, pending
                    ) from error
                failed, codes = pending, [code] * len(pending)
            except BotoCoreError as error:  # endpoint down, connection reset, read timeout
                failed, codes = pending, [type(error).__name__] * len(pending)
            report.kinesis_records += len(pending) - len(failed)
            report.sent += sum(len(r) for _, r in pending) - sum(len(r) for _, r in failed)
            for code in codes:
                report.error_codes[code] = report.error_codes.get(code, 0) + 1
            if not failed:
                return
            if self._clock() - started >= self.give_up_after_s:
                raise self._give_up(
                    f"gave up after {self.give_up_after_s:g} s with "
                    f"{sum(len(r) for _, r in failed)} readings of a batch not accepted "
                    f"(errors: {', '.join(sorted(set(codes)))})",
                    report,
                    failed,
                )
            report.retried_entries += len(failed)
            pending = failed
            ceiling = min(self.max_delay_s, self.base_delay_s * 2**attempt)
            self._sleep(self._rng.uniform(0, ceiling))
            attempt += 1

    @staticmethod
    def _give_up(message: str, report: PublishReport, unsent: list[Pending]) -> PublishError:
        return PublishError(
            f"{message}; {report.sent} readings were sent before stopping",
            report,
            [reading for _, readings in unsent for reading in readings],
        )
