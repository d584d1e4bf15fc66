"""Kinesis record bytes → readings (or treatments): KPL deaggregation, then the contract codec.

Shared by every consumer (alerts Lambda, Firehose transform), so they reject the same bytes with
the same reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from glucosestream.contract.codec import (
    ERASURE_SCHEMA,
    READING_SCHEMA,
    TREATMENT_SCHEMA,
    Codec,
    CodecError,
    default_codec,
)
from glucosestream.contract.kpl import AggregationError, deaggregate
from glucosestream.domain.erasure import InvalidErasure, ReadingErasure
from glucosestream.domain.reading import GlucoseReading, InvalidReading
from glucosestream.domain.treatment import GlucoseTreatment, InvalidTreatment

Event = TypeVar("Event")


class UndecodableRecord(ValueError):
    """A Kinesis record that holds no valid reading; the message says why.

    ``kind`` ("aggregate", "avro" or "contract") is safe to log: the message of a contract
    violation can quote a glucose value.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def decode_record(
    data: bytes, partition_key: str, codec: Codec | None = None
) -> list[GlucoseReading]:
    """Every reading in one Kinesis record (one, or many when KPL-aggregated).

    All or nothing: one bad user record makes the whole record undecodable, so that a record is
    never half applied.
    """
    return _decode(data, partition_key, codec, READING_SCHEMA, GlucoseReading.from_record)


def decode_treatment_record(
    data: bytes, partition_key: str, codec: Codec | None = None
) -> list[GlucoseTreatment]:
    """Every treatment version in one Kinesis record of the treatments stream (all or nothing)."""
    return _decode(data, partition_key, codec, TREATMENT_SCHEMA, GlucoseTreatment.from_record)


def decode_erasure_record(
    data: bytes, partition_key: str, codec: Codec | None = None
) -> list[ReadingErasure]:
    """Every erasure in one Kinesis record of the erasures stream (all or nothing)."""
    return _decode(data, partition_key, codec, ERASURE_SCHEMA, ReadingErasure.from_record)


def _decode(
    data: bytes,
    partition_key: str,
    codec: Codec | None,
    schema: str,
    build: Callable[[dict[str, Any]], Event],
) -> list[Event]:
    codec = codec or default_codec()
    try:
        users = deaggregate(data, partition_key)
    except AggregationError as error:
        raise UndecodableRecord(str(error), "aggregate") from None
    events = []
    for user in users:
        try:
            events.append(build(codec.decode(user.data, schema)))
        except (CodecError, InvalidReading, InvalidTreatment, InvalidErasure) as error:
            where = f" (user record {user.sub_sequence})" if len(users) > 1 else ""
            kind = "avro" if isinstance(error, CodecError) else "contract"
            raise UndecodableRecord(f"{error}{where}", kind) from None
    return events
