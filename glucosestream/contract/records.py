"""Kinesis record bytes → readings: KPL deaggregation, then the contract codec.

Shared by every consumer (alerts Lambda, Firehose transform), so they reject the same bytes with
the same reasons.
"""

from __future__ import annotations

from glucosestream.contract.codec import Codec, CodecError, default_codec
from glucosestream.contract.kpl import AggregationError, deaggregate
from glucosestream.domain.reading import GlucoseReading, InvalidReading


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
    codec = codec or default_codec()
    try:
        users = deaggregate(data, partition_key)
    except AggregationError as error:
        raise UndecodableRecord(str(error), "aggregate") from None
    readings = []
    for user in users:
        try:
            readings.append(GlucoseReading.from_record(codec.decode(user.data)))
        except (CodecError, InvalidReading) as error:
            where = f" (user record {user.sub_sequence})" if len(users) > 1 else ""
            kind = "avro" if isinstance(error, CodecError) else "contract"
            raise UndecodableRecord(f"{error}{where}", kind) from None
    return readings
