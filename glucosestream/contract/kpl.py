"""KPL record aggregation: many readings in one Kinesis record.

A Kinesis shard takes 1,000 records/s; a 130-byte reading uses a fraction of the 1 MiB a record
may hold. The Kinesis Producer Library's aggregation format packs many user records into one
(``F3 89 9A C2`` + a protobuf ``AggregatedRecord`` + MD5 of it; see the KPL's
``aggregation-format.md``). We aggregate with ``aws-kinesis-agg``'s ``RecordAggregator`` and
parse with its protobuf message, but deaggregate ourselves: the library's deaggregator prints
and skips the rest of an aggregate on a bad index, and passes a corrupt aggregate on as if it
were a plain record, where we must fail the record loudly (nothing silently dropped).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

# The package's generated protobuf modules import each other as top-level modules; its
# deaggregator puts the package folder on sys.path, so it is imported first, for that alone.
import aws_kinesis_agg.deaggregator  # noqa: F401
from aws_kinesis_agg import DIGEST_SIZE, MAGIC, messages_pb2
from aws_kinesis_agg.aggregator import RecordAggregator
from google.protobuf.message import DecodeError

from glucosestream.contract.entries import Entry, partition_hash

T = TypeVar("T")

DEFAULT_AGGREGATE_BYTES = 50 * 1024
"""Small enough that a Lambda batch of aggregates stays far below the 6 MB payload limit."""


AggregatedRecord = messages_pb2.AggregatedRecord

__all__ = [
    "MAGIC",
    "AggregatedRecord",
    "AggregationError",
    "UserRecord",
    "aggregate",
    "deaggregate",
    "is_aggregated",
]


class AggregationError(ValueError):
    """An aggregated record that cannot be read whole."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    partition_key: str
    data: bytes
    sub_sequence: int
    """Position inside the aggregate (0 for a plain record); with the Kinesis sequence number it
    identifies a user record, as the KCL's sub-sequence number does."""


def aggregate(
    items: Iterable[tuple[Entry, T]],
    max_bytes: int = DEFAULT_AGGREGATE_BYTES,
    shard_ranges: Sequence[tuple[int, int]] | None = None,
) -> Iterator[tuple[Entry, list[T]]]:
    """Pack entries into aggregated entries; each comes with the payloads it holds.

    With ``shard_ranges`` (the stream's open shards' hash key ranges) records are aggregated per
    shard, as the KPL does, and each aggregate carries the explicit hash key of its first record:
    every record then reaches the shard its own partition key maps to, so one patient's readings
    stay in one shard, in order. Without it, all records share one aggregator (fine for a
    one-shard stream).
    """
    starts = [start for start, _ in shard_ranges] if shard_ranges else [0]
    aggregators: dict[int, RecordAggregator] = {}
    payloads: dict[int, list[T]] = {}
    first_hash: dict[int, int] = {}
    routed = shard_ranges is not None and len(shard_ranges) > 0

    def packed(shard: int, record: Any) -> tuple[Entry, list[T]]:
        partition_key, _, data = record.get_contents()
        hash_key = str(first_hash[shard]) if routed else None
        return Entry(data, partition_key, hash_key), payloads[shard]

    for entry, payload in items:
        key_hash = partition_hash(entry.partition_key)
        shard = bisect_right(starts, key_hash) - 1 if routed else 0
        aggregator = aggregators.get(shard)
        if aggregator is None:
            aggregator = aggregators[shard] = RecordAggregator(max_bytes)
            payloads[shard] = []
            first_hash[shard] = key_hash
        try:
            full = aggregator.add_user_record(entry.partition_key, entry.data)
        except ValueError as too_big:
            raise AggregationError(str(too_big)) from None
        if full is not None:
            yield packed(shard, full)
            payloads[shard] = []
            first_hash[shard] = key_hash
        payloads[shard].append(payload)
    for shard, aggregator in aggregators.items():
        rest = aggregator.clear_and_get()
        if rest is not None:
            yield packed(shard, rest)


def is_aggregated(data: bytes) -> bool:
    return bool(data[: len(MAGIC)] == MAGIC)


def deaggregate(data: bytes, partition_key: str) -> list[UserRecord]:
    """The user records in a Kinesis record (the record itself when it is not an aggregate)."""
    if not is_aggregated(data):
        return [UserRecord(partition_key, data, 0)]
    body, digest = data[len(MAGIC) : -DIGEST_SIZE], data[-DIGEST_SIZE:]
    if len(data) < len(MAGIC) + DIGEST_SIZE or hashlib.md5(body).digest() != digest:  # noqa: S324
        raise AggregationError("aggregated record fails its MD5 check (corrupt or truncated)")
    message = AggregatedRecord()
    try:
        message.ParseFromString(body)
    except DecodeError:
        raise AggregationError("aggregated record body is not a valid protobuf") from None
    keys = list(message.partition_key_table)
    records = []
    for position, record in enumerate(message.records):
        if record.partition_key_index >= len(keys):
            raise AggregationError(
                f"user record {position} names partition key {record.partition_key_index} "
                f"of a table of {len(keys)}"
            )
        records.append(UserRecord(keys[record.partition_key_index], record.data, position))
    return records
