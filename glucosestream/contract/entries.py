"""A Kinesis record as the contract sends it, and the limits every batch respects.

Shared by the producer, KPL aggregation and every consumer: routing (the partition key's MD5, or
an explicit hash key that pins a KPL aggregate to one shard) is part of the contract, since a
patient's readings must stay in one shard for per-patient order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_RECORDS_PER_PUT = 500
MAX_BYTES_PER_PUT = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024
"""Kinesis limits (PutRecords API reference): 500 records and 5 MiB a call, 1 MiB a record,
counting the data blob and the partition key."""


@dataclass(frozen=True, slots=True)
class Entry:
    data: bytes
    partition_key: str
    explicit_hash_key: str | None = None
    """Routes the record to the shard owning this hash instead of the partition key's MD5."""

    @property
    def size(self) -> int:
        return len(self.data) + len(self.partition_key.encode())


def partition_hash(partition_key: str) -> int:
    """The 128-bit hash Kinesis routes a partition key by: MD5, as an unsigned integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")  # noqa: S324
