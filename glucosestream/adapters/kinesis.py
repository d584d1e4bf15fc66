"""Kinesis Data Streams adapter: create, put in contract-sized batches, read shards in order."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError

from glucosestream.adapters.clients import aws_client
from glucosestream.contract.entries import (
    MAX_BYTES_PER_PUT,
    MAX_BYTES_PER_RECORD,
    MAX_RECORDS_PER_PUT,
    Entry,
)
from glucosestream.settings import Settings

T = TypeVar("T")

GET_RECORDS_LIMIT = 10_000
"""The most records one GetRecords call returns."""


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
        return list(self.shard_lineage())

    def shard_lineage(self) -> dict[str, tuple[str, ...]]:
        """Every shard's id (in listing order) and its parents: the shard a split or a merge
        closed to open it (none for the stream's first shards)."""
        lineage: dict[str, tuple[str, ...]] = {}
        kwargs: dict[str, Any] = {"StreamName": self.name}
        while True:
            response = self.client.list_shards(**kwargs)
            for shard in response["Shards"]:
                parents = (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
                lineage[shard["ShardId"]] = tuple(p for p in parents if p)
            token = response.get("NextToken")
            if not token:
                return lineage
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
        self, shard_id: str, iterator: str, limit: int = GET_RECORDS_LIMIT
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
        reader = ShardReader(self, shard_id, iterator)
        return [record for page in reader.catch_up() for record in page.records]


class ShardSource(Protocol):
    """What reading shards needs of a stream; :class:`KinesisStream` provides it."""

    name: str

    def shard_ids(self) -> list[str]: ...

    def shard_lineage(self) -> dict[str, tuple[str, ...]]: ...

    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str: ...

    def get_records(
        self, shard_id: str, iterator: str, limit: int = GET_RECORDS_LIMIT
    ) -> tuple[list[StreamRecord], str | None, int]: ...


@dataclass(frozen=True, slots=True)
class ShardPage:
    """What one GetRecords call returned."""

    records: list[StreamRecord]
    next_iterator: str | None
    """None: the shard is closed (a reshard) and every record of it has been read."""
    millis_behind_latest: int


class ShardReader:
    """One shard, read in order from a position: its iterator, the last record read, and a new
    iterator when the old one expired (5 minutes unused), after the last record read.

    Parameters
    ----------
    iterator
        Where reading starts; ``None`` for a shard with nothing left to read.
    last_read
        The sequence number the iterator starts after (a checkpoint), if any.
    from_latest
        The iterator was taken at the shard's tip: renewed before anything was read, it must
        stay there (TRIM_HORIZON would replay the old records).
    """

    def __init__(
        self,
        stream: ShardSource,
        shard_id: str,
        iterator: str | None,
        *,
        last_read: str | None = None,
        from_latest: bool = False,
    ) -> None:
        self.stream = stream
        self.shard_id = shard_id
        self.iterator = iterator
        self.last_read = last_read
        self.from_latest = from_latest

    @classmethod
    def at(
        cls,
        stream: ShardSource,
        shard_id: str,
        after_sequence: str | None = None,
        *,
        latest: bool = False,
    ) -> ShardReader:
        """A reader at the shard's start, after ``after_sequence``, or at its tip (``latest``)."""
        iterator = stream.shard_iterator(shard_id, after_sequence, latest=latest)
        return cls(stream, shard_id, iterator, last_read=after_sequence, from_latest=latest)

    @property
    def closed(self) -> bool:
        """Everything the shard will ever hold has been read (a reshard closed it)."""
        return self.iterator is None

    def fetch(self, limit: int = GET_RECORDS_LIMIT) -> ShardPage:
        """One GetRecords call at the reader's position, which it does not move (see
        :meth:`advance`): a page fetched on another thread is applied, or dropped, by the
        reader's owner. An expired iterator is renewed and the call made again; any other error
        (botocore's) is the caller's."""
        iterator = self.iterator
        if iterator is None:
            raise ValueError(f"shard {self.shard_id} is closed: nothing more to read")
        try:
            records, following, behind = self.stream.get_records(self.shard_id, iterator, limit)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            records, following, behind = self.stream.get_records(
                self.shard_id, self._renewed(), limit
            )
        return ShardPage(records, following, behind)

    def advance(self, page: ShardPage) -> None:
        """Move past a page that :meth:`fetch` returned."""
        self.iterator = page.next_iterator
        if page.records:
            self.last_read = page.records[-1].sequence_number

    def read(self, limit: int = GET_RECORDS_LIMIT) -> ShardPage:
        """:meth:`fetch`, then :meth:`advance`."""
        page = self.fetch(limit)
        self.advance(page)
        return page

    def catch_up(self, limit: int = GET_RECORDS_LIMIT) -> Iterator[ShardPage]:
        """Pages until the shard has nothing more right now (or is closed)."""
        while not self.closed:
            page = self.read(limit)
            yield page
            if not page.records and page.millis_behind_latest == 0:
                return

    def _renewed(self) -> str:
        latest = self.last_read is None and self.from_latest
        return self.stream.shard_iterator(self.shard_id, self.last_read, latest=latest)


def readings_stream(settings: Settings, client: Any = None) -> KinesisStream:
    """The readings stream of ``settings``, through ``client`` (by default the one
    :func:`~glucosestream.adapters.clients.aws_client` builds)."""
    return stream_named(settings, settings.names.readings_stream, client)


def stream_named(settings: Settings, name: str, client: Any = None) -> KinesisStream:
    """Another stream of ``settings`` by name (treatments, erasures), through ``client``."""
    return KinesisStream(client or aws_client("kinesis", settings), name)
