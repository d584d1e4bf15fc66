"""Kinesis Data Streams adapter: create, put in contract-sized batches, read shards in order."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from glucosestream.adapters.clients import aws_client
from glucosestream.contract.entries import (
    MAX_BYTES_PER_PUT,
    MAX_BYTES_PER_RECORD,
    MAX_RECORDS_PER_PUT,
    Entry,
)
from glucosestream.settings import Settings

T = TypeVar("T")


class KinesisError(RuntimeError):
    """A Kinesis call that failed in a way the caller must hear about."""


def _itself(entry: Entry) -> Entry:
    return entry


def _put_entry(entry: Entry) -> dict[str, Any]:
    record: dict[str, Any] = {"Data": entry.data, "PartitionKey": entry.partition_key}
    if entry.explicit_hash_key is not None:
        record["ExplicitHashKey"] = entry.explicit_hash_key
    return record


@dataclass(frozen=True, slots=True)
class StreamRecord:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival_ms: int


@dataclass(frozen=True, slots=True)
class PutResult:
    failed: list[int]
    """Indexes (into the batch) of entries Kinesis did not accept."""
    error_codes: list[str]


def batches(
    items: Iterable[T],
    entry_of: Callable[[T], Entry] = _itself,  # type: ignore[assignment]
    max_records: int = MAX_RECORDS_PER_PUT,
    max_bytes: int = MAX_BYTES_PER_PUT,
) -> Iterator[list[T]]:
    """Group items into PutRecords batches that respect the record and byte limits, in order.

    ``entry_of`` finds the Kinesis entry of an item, so callers can batch (entry, payload) pairs.
    """
    batch: list[T] = []
    batch_bytes = 0
    for item in items:
        size = entry_of(item).size
        if size > MAX_BYTES_PER_RECORD:
            raise KinesisError(f"record of {size} bytes exceeds the 1 MiB Kinesis record limit")
        if batch and (len(batch) >= max_records or batch_bytes + size > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += size
    if batch:
        yield batch


class KinesisStream:
    """One stream, through an injected boto3 Kinesis client."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def exists(self) -> bool:
        try:
            self.client.describe_stream_summary(StreamName=self.name)
        except self.client.exceptions.ResourceNotFoundException:
            return False
        return True

    def ensure(self, shards: int, timeout_s: float = 30.0) -> None:
        """Create the stream if missing and wait until it is ACTIVE (idempotent)."""
        with contextlib.suppress(self.client.exceptions.ResourceInUseException):
            self.client.create_stream(StreamName=self.name, ShardCount=shards)
        deadline = time.monotonic() + timeout_s
        while True:
            summary = self.client.describe_stream_summary(StreamName=self.name)
            status = summary["StreamDescriptionSummary"]["StreamStatus"]
            if status == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise KinesisError(f"stream {self.name} still {status} after {timeout_s:.0f} s")
            time.sleep(0.1)

    def put_batch(self, batch: Sequence[Entry]) -> PutResult:
        """One PutRecords call; returns the entries that failed (partial failure)."""
        if not batch or len(batch) > MAX_RECORDS_PER_PUT:
            raise KinesisError(f"a PutRecords batch holds 1-500 records, not {len(batch)}")
        response = self.client.put_records(
            StreamName=self.name,
            Records=[_put_entry(e) for e in batch],
        )
        failed: list[int] = []
        codes: list[str] = []
        if response.get("FailedRecordCount", 0):
            for index, result in enumerate(response["Records"]):
                if "ErrorCode" in result:
                    failed.append(index)
                    codes.append(result["ErrorCode"])
        return PutResult(failed=failed, error_codes=codes)

    def shard_hash_ranges(self) -> list[tuple[int, int]]:
        """(starting, ending) hash key of every open shard, sorted."""
        ranges: list[tuple[int, int]] = []
        kwargs: dict[str, Any] = {"StreamName": self.name}
        while True:
            response = self.client.list_shards(**kwargs)
            for shard in response["Shards"]:
                if "EndingSequenceNumber" in shard.get("SequenceNumberRange", {}):
                    continue  # closed by a reshard: takes no new records
                key_range = shard["HashKeyRange"]
                ranges.append((int(key_range["StartingHashKey"]), int(key_range["EndingHashKey"])))
            token = response.get("NextToken")
            if not token:
                return sorted(ranges)
            kwargs = {"NextToken": token}

    def shard_ids(self) -> list[str]:
        shard_ids: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.name}
        while True:
            response = self.client.list_shards(**kwargs)
            shard_ids.extend(shard["ShardId"] for shard in response["Shards"])
            token = response.get("NextToken")
            if not token:
                return shard_ids
            kwargs = {"NextToken": token}

    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str:
        """An iterator at the shard's start, after a sequence number, or at its tip (latest)."""
        kwargs: dict[str, Any] = {"StreamName": self.name, "ShardId": shard_id}
        if latest:
            kwargs["ShardIteratorType"] = "LATEST"
        elif after_sequence is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            kwargs["StartingSequenceNumber"] = after_sequence
        return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])

    def get_records(
        self, shard_id: str, iterator: str, limit: int = 10_000
    ) -> tuple[list[StreamRecord], str | None, int]:
        """One GetRecords call: (records, next iterator or None if the shard closed, lag ms)."""
        response = self.client.get_records(ShardIterator=iterator, Limit=limit)
        records = [
            StreamRecord(
                shard_id=shard_id,
                sequence_number=r["SequenceNumber"],
                partition_key=r["PartitionKey"],
                data=r["Data"],
                arrival_ms=int(r["ApproximateArrivalTimestamp"].timestamp() * 1000),
            )
            for r in response["Records"]
        ]
        return records, response.get("NextShardIterator"), response.get("MillisBehindLatest", 0)

    def read_available(
        self, shard_id: str, after_sequence: str | None = None
    ) -> list[StreamRecord]:
        """Everything currently in a shard after ``after_sequence``, in sequence order."""
        return self.read_from(shard_id, self.shard_iterator(shard_id, after_sequence))

    def read_from(self, shard_id: str, iterator: str | None) -> list[StreamRecord]:
        """Follow ``iterator`` until the shard has nothing more right now."""
        records: list[StreamRecord] = []
        while iterator is not None:
            page, iterator, behind = self.get_records(shard_id, iterator)
            records.extend(page)
            if not page and behind == 0:
                break
        return records


def readings_stream(settings: Settings, client: Any = None) -> KinesisStream:
    """The readings stream of ``settings``, through ``client`` (by default the one
    :func:`~glucosestream.adapters.clients.aws_client` builds)."""
    if client is None:
        client = aws_client("kinesis", settings)
    return KinesisStream(client, settings.names.readings_stream)
