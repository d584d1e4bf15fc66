"""Do the counts balance? Readings in the stream against rows landed in the raw zone.

Nothing lost, nothing doubled: every reading put to the stream lands once, as a row under
``raw/`` or a record under ``errors/``. Readings still in the delivery worker's buffers show as
*pending*; a worker restarted after a kill can land a file twice (at-least-once), which shows as
*redelivered* and is removed by the staging layer's dedupe on the reading identity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from glucosestream.adapters.kinesis import KinesisStream, readings_stream
from glucosestream.contract.kpl import AggregationError, deaggregate
from glucosestream.lake.raw_zone.files import count_raw_zone
from glucosestream.settings import Settings


@dataclass(frozen=True)
class Balance:
    in_stream: int
    """User records (readings, or undecodable records) in the stream."""
    raw_rows: int
    error_records: int
    raw_files: int
    error_files: int

    @property
    def landed(self) -> int:
        return self.raw_rows + self.error_records

    @property
    def verdict(self) -> str:
        gap = self.in_stream - self.landed
        if gap == 0:
            return "balanced: in stream = raw rows + error records"
        if gap > 0:
            return f"{gap} pending (not yet delivered, or in the delivery worker's buffers)"
        return f"{-gap} redelivered after a restart (the staging layer dedupes them)"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "landed": self.landed, "verdict": self.verdict}


def stream_user_records(stream: KinesisStream) -> int:
    """Every user record in the stream (KPL aggregates counted by what they hold)."""
    total = 0
    for shard_id in stream.shard_ids():
        for record in stream.read_available(shard_id):
            try:
                total += len(deaggregate(record.data, record.partition_key))
            except AggregationError:
                total += 1  # a corrupt aggregate lands as one error record
    return total


def balance(settings: Settings) -> Balance:
    stream = readings_stream(settings)
    counts = count_raw_zone(
        settings.lake_dir, settings.names.raw_readings_prefix, settings.names.errors_prefix
    )
    return Balance(
        in_stream=stream_user_records(stream),
        raw_rows=counts.raw_rows,
        error_records=counts.error_records,
        raw_files=counts.raw_files,
        error_files=counts.error_files,
    )
