"""An in-memory Kinesis stream for the local workers' shard readers (ESM, Firehose)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from botocore.exceptions import ClientError

from glucosestream.adapters.kinesis import StreamRecord
from glucosestream.contract.codec import default_codec
from glucosestream.domain.reading import GlucoseReading
from tests.factories import START_MS
from tests.support.clock import FakeClock


def shard_id(number: int) -> str:
    return f"shardId-{number:012d}"


class FakeShards:
    """Shards as lists; an iterator is ``<shard>|<next index>``.

    The ``n``-th record (from 1) put on shard ``s`` has the sequence number ``s * 10**6 + n`` in
    30 digits: unique across shards and ordered within one, as Kinesis's are. A record arrives
    at the clock's time unless ``put`` says when. GetRecords returns at most
    ``page`` records a call (Kinesis returns what fits in its response, not always the limit)
    and, like Kinesis, 0 ms behind only at the tip of the shard. ``expire_next`` and
    ``throttle_next`` make the next GetRecords calls fail with Kinesis's errors.
    """

    def __init__(
        self,
        shards: int = 1,
        *,
        clock: Callable[[], float] | None = None,
        page: int | None = None,
        name: str = "gs-test-readings",
    ) -> None:
        self.name = name
        self.clock = clock or FakeClock(START_MS / 1000)
        self.page = page
        self.records: dict[str, list[StreamRecord]] = {shard_id(i): [] for i in range(shards)}
        self.parents: dict[str, tuple[str, ...]] = {}
        """Each shard a reshard opened, and the shard it closed to do so."""
        self.closed: set[str] = set()
        self.expire_next = False
        self.throttle_next = 0
        self.get_records_calls = 0

    def put(
        self,
        data: bytes,
        partition_key: str = "p",
        *,
        shard: int | None = None,
        arrival_ms: int | None = None,
    ) -> StreamRecord:
        """Appends one record to ``shard``, by default the one its partition key hashes to."""
        shard_ids = list(self.records)
        if shard is None:
            open_shards = [i for i, name in enumerate(shard_ids) if name not in self.closed]
            shard = open_shards[sum(partition_key.encode()) % len(open_shards)]
        if shard_ids[shard] in self.closed:
            raise ValueError(f"{shard_ids[shard]} is closed")
        records = self.records[shard_ids[shard]]
        record = StreamRecord(
            shard_id=shard_ids[shard],
            sequence_number=f"{shard * 1_000_000 + len(records) + 1:030d}",
            partition_key=partition_key,
            data=data,
            arrival_ms=int(self.clock() * 1000) if arrival_ms is None else arrival_ms,
        )
        records.append(record)
        return record

    def put_many(self, count: int, shard: int = 0) -> list[StreamRecord]:
        """``count`` small opaque records on one shard."""
        return [self.put(f"r{shard}-{i}".encode(), shard=shard) for i in range(count)]

    def put_readings(
        self, readings: Iterable[GlucoseReading], arrival_ms: int | None = None
    ) -> None:
        """Each reading as the producer sends it unaggregated: one record, keyed by patient."""
        for r in readings:
            self.put(default_codec().encode(r.to_record()), r.patient_id, arrival_ms=arrival_ms)

    def split(self, shard: int) -> tuple[int, int]:
        """Close ``shard`` and open two children of it (as SplitShard does); their numbers."""
        parent = list(self.records)[shard]
        self.closed.add(parent)
        children = []
        for _ in range(2):
            number = len(self.records)
            self.records[shard_id(number)] = []
            self.parents[shard_id(number)] = (parent,)
            children.append(number)
        return children[0], children[1]

    def shard_ids(self) -> list[str]:
        return list(self.records)

    def shard_lineage(self) -> dict[str, tuple[str, ...]]:
        return {name: self.parents.get(name, ()) for name in self.records}

    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str:
        records = self.records[shard_id]
        if latest:
            return f"{shard_id}|{len(records)}"
        if after_sequence is None:
            return f"{shard_id}|0"
        position = [r.sequence_number for r in records].index(after_sequence) + 1
        return f"{shard_id}|{position}"

    def get_records(
        self, shard_id: str, iterator: str, limit: int = 10_000
    ) -> tuple[list[StreamRecord], str | None, int]:
        self.get_records_calls += 1
        if self.expire_next:
            self.expire_next = False
            raise ClientError(
                {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}},
                "GetRecords",
            )
        if self.throttle_next:
            self.throttle_next -= 1
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "GetRecords",
            )
        shard, position = iterator.split("|")
        start = int(position)
        records = self.records[shard][start : start + min(limit, self.page or limit)]
        end = start + len(records)
        behind = 0 if end == len(self.records[shard]) else 1000
        if shard in self.closed and end == len(self.records[shard]):
            return records, None, behind  # read to the end of a closed shard
        return records, f"{shard}|{end}", behind
