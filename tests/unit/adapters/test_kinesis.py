from __future__ import annotations

from collections.abc import Iterable

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from glucosestream.adapters.kinesis import (
    GET_RECORDS_LIMIT,
    KinesisError,
    KinesisStream,
    ShardPage,
    ShardReader,
    StreamRecord,
    batches,
)
from glucosestream.contract.entries import MAX_BYTES_PER_PUT, Entry


def test_batches_hold_at_most_500_records() -> None:
    entries = [Entry(b"x" * 80, f"p_{i % 7}") for i in range(1201)]
    sizes = [len(b) for b in batches(entries)]
    assert sizes == [500, 500, 201]


def test_batches_hold_at_most_5_mib_counting_partition_keys() -> None:
    key = "p_" + "a" * 32
    entries = [Entry(b"x" * (512 * 1024 - len(key)), key) for _ in range(25)]
    grouped = list(batches(entries))
    assert [len(b) for b in grouped] == [10, 10, 5]
    assert all(sum(e.size for e in b) <= MAX_BYTES_PER_PUT for b in grouped)


def test_batches_keep_order() -> None:
    entries = [Entry(str(i).encode(), "p") for i in range(1234)]
    assert [e for b in batches(entries) for e in b] == entries


def test_a_record_over_1_mib_is_refused_not_dropped() -> None:
    with pytest.raises(KinesisError, match="exceeds the 1 MiB"):
        list(batches([Entry(b"x" * (1024 * 1024), "p")]))


def _stubbed() -> tuple[KinesisStream, Stubber]:
    client = boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    return KinesisStream(client, "gs-test-readings"), Stubber(client)


def test_put_batch_reports_the_failed_entries_of_a_partial_failure() -> None:
    stream, stubber = _stubbed()
    entries = [Entry(b"a", "p1"), Entry(b"b", "p2"), Entry(b"c", "p3")]
    stubber.add_response(
        "put_records",
        {
            "FailedRecordCount": 2,
            "Records": [
                {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"},
                {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"},
            ],
        },
        {
            "StreamName": "gs-test-readings",
            "Records": [{"Data": e.data, "PartitionKey": e.partition_key} for e in entries],
        },
    )
    with stubber:
        result = stream.put_batch(entries)
    assert result.failed == [0, 2]
    assert result.error_codes == ["ProvisionedThroughputExceededException", "InternalFailure"]


def test_shard_lineage_names_each_shards_parents_over_every_page() -> None:
    stream, stubber = _stubbed()

    def shard(number: int, *parents: int) -> dict[str, object]:
        named = dict(zip(("ParentShardId", "AdjacentParentShardId"), parents, strict=False))
        return {
            "ShardId": f"shardId-{number:012d}",
            **{key: f"shardId-{value:012d}" for key, value in named.items()},
            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
            "SequenceNumberRange": {"StartingSequenceNumber": "1"},
        }

    # shards 0 and 1 merged into 2, then 2 split into 3 and 4; the listing takes two pages
    stubber.add_response(
        "list_shards",
        {"Shards": [shard(0), shard(1), shard(2, 0, 1)], "NextToken": "page-2"},
        {"StreamName": "gs-test-readings"},
    )
    stubber.add_response(
        "list_shards", {"Shards": [shard(3, 2), shard(4, 2)]}, {"NextToken": "page-2"}
    )
    with stubber:
        lineage = stream.shard_lineage()
    assert lineage == {
        "shardId-000000000000": (),
        "shardId-000000000001": (),
        "shardId-000000000002": ("shardId-000000000000", "shardId-000000000001"),
        "shardId-000000000003": ("shardId-000000000002",),
        "shardId-000000000004": ("shardId-000000000002",),
    }


def test_put_batch_refuses_empty_or_oversized_batches() -> None:
    stream, _ = _stubbed()
    with pytest.raises(KinesisError, match="1-500 records"):
        stream.put_batch([])
    with pytest.raises(KinesisError, match="1-500 records"):
        stream.put_batch([Entry(b"x", "p")] * 501)


class PagedStream:
    """One shard as a list; an iterator is ``<index>`` or ``expired``; pages of ``page``
    records; ``closed_at`` ends the shard (a reshard) once that many records have been read."""

    name = "gs-test-readings"

    def __init__(self, count: int, page: int = 2, closed_at: int | None = None) -> None:
        self.records = [StreamRecord("shard-0", f"{i:05d}", "p", b"x", 0) for i in range(count)]
        self.page = page
        self.closed_at = closed_at
        self.expire_next = False
        self.throttle_next = False
        self.iterators_asked: list[tuple[str | None, bool]] = []

    def shard_ids(self) -> list[str]:
        return ["shard-0"]

    def shard_lineage(self) -> dict[str, tuple[str, ...]]:
        return {"shard-0": ()}

    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str:
        self.iterators_asked.append((after_sequence, latest))
        if latest:
            return str(len(self.records))
        return "0" if after_sequence is None else str(int(after_sequence) + 1)

    def get_records(
        self, shard_id: str, iterator: str, limit: int = GET_RECORDS_LIMIT
    ) -> tuple[list[StreamRecord], str | None, int]:
        if self.throttle_next:
            self.throttle_next = False
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetRecords"
            )
        if self.expire_next:
            self.expire_next = False
            raise ClientError({"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")
        start = int(iterator)
        page = self.records[start : start + min(limit, self.page)]
        end = start + len(page)
        if self.closed_at is not None and end >= self.closed_at:
            return page, None, 0
        return page, str(end), 0 if end == len(self.records) else 1000


def sequences(pages: Iterable[ShardPage]) -> list[str]:
    return [record.sequence_number for page in pages for record in page.records]


def test_a_reader_reads_in_order_until_it_has_caught_up() -> None:
    stream = PagedStream(5)
    reader = ShardReader.at(stream, "shard-0")
    assert sequences(reader.catch_up()) == ["00000", "00001", "00002", "00003", "00004"]
    assert reader.last_read == "00004"
    assert not reader.closed
    stream.records.append(StreamRecord("shard-0", "00005", "p", b"y", 0))
    assert sequences(reader.catch_up()) == ["00005"]


def test_a_reader_stops_at_a_closed_shard() -> None:
    reader = ShardReader.at(PagedStream(5, closed_at=3), "shard-0")
    assert sequences(reader.catch_up()) == ["00000", "00001", "00002", "00003"]
    assert reader.closed
    assert list(reader.catch_up()) == []
    with pytest.raises(ValueError, match="closed"):
        reader.fetch()


def test_fetch_leaves_the_position_to_advance() -> None:
    reader = ShardReader.at(PagedStream(5), "shard-0", "00001")
    page = reader.fetch()
    assert sequences([page]) == ["00002", "00003"]
    assert sequences([reader.fetch()]) == ["00002", "00003"]  # not moved: the same page
    reader.advance(page)
    assert (reader.iterator, reader.last_read) == ("4", "00003")


def test_an_expired_iterator_is_renewed_after_the_last_record_read() -> None:
    stream = PagedStream(5)
    reader = ShardReader.at(stream, "shard-0")
    reader.read()
    stream.expire_next = True
    assert sequences([reader.read()]) == ["00002", "00003"]
    assert stream.iterators_asked[-1] == ("00001", False)


def test_a_reader_at_the_tip_renews_at_the_tip_until_it_has_read_something() -> None:
    stream = PagedStream(3)
    reader = ShardReader.at(stream, "shard-0", latest=True)
    stream.records.append(StreamRecord("shard-0", "00003", "p", b"new", 0))
    stream.expire_next = True
    assert sequences([reader.read()]) == []  # renewed at the tip: the new record came before
    assert stream.iterators_asked[-1] == (None, True)
    stream.records.append(StreamRecord("shard-0", "00004", "p", b"newer", 0))
    assert sequences([reader.read()]) == ["00004"]
    stream.expire_next = True
    reader.read()
    assert stream.iterators_asked[-1] == ("00004", False)


def test_other_read_errors_are_the_callers() -> None:
    stream = PagedStream(5)
    reader = ShardReader.at(stream, "shard-0")
    stream.throttle_next = True
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        reader.read()
    assert (reader.iterator, reader.last_read) == ("0", None)
    assert sequences([reader.read()]) == ["00000", "00001"]
