"""What the delivery worker counts, and what it still owes each Kinesis record it read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeliveryStats:
    """Counters since the worker was created (written by the polling thread only)."""

    records_read: int = 0
    """Kinesis records read from the stream (re-reads after a restart count again)."""
    user_records: int = 0
    """Records handed to the transform: Kinesis records after KPL de-aggregation."""
    invocations: int = 0
    invocation_failures: int = 0
    """Transform invocations that raised or answered malformed (each retry counts)."""
    rows_landed: int = 0
    """Rows in durable raw Parquet files."""
    errors_landed: int = 0
    """Records in durable error files."""
    raw_files: int = 0
    error_files: int = 0
    dropped: int = 0
    """Records the transform answered ``Dropped`` (ours never does)."""
    read_errors: int = 0
    checkpoints_saved: int = 0
    millis_behind_latest: dict[str, int] = field(default_factory=dict)

    @property
    def files_written(self) -> int:
        return self.raw_files + self.error_files


@dataclass(slots=True)
class Source:
    """A Kinesis record whose user records are not all in durable files yet."""

    shard_id: str
    sequence_number: str
    arrival_ms: int
    outstanding: int
