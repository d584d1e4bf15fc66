"""Shard discovery and positioning for the local consumers, and a shard's backoff."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from glucosestream.adapters.kinesis import StreamRecord
from glucosestream.local.shards import (
    SHARD_REFRESH_S,
    UNREACHABLE_RETRY_S,
    Backoff,
    ShardDiscovery,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Stream:
    """Shards by id; an iterator names how it was asked for."""

    name = "gs-test-readings"

    def __init__(self, *shard_ids: str) -> None:
        self.shards = list(shard_ids)
        self.fail_listing = False
        self.down = False
        self.down_for_iterators: set[str] = set()

    def shard_ids(self) -> list[str]:
        return list(self.shard_lineage())

    def shard_lineage(self) -> dict[str, tuple[str, ...]]:
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4567/")
        if self.fail_listing:
            raise ClientError({"Error": {"Code": "LimitExceededException"}}, "ListShards")
        return dict.fromkeys(self.shards, ())

    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str:
        if shard_id in self.down_for_iterators:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4567/")
        return f"{shard_id}:{'LATEST' if latest else after_sequence or 'TRIM_HORIZON'}"

    def get_records(
        self, shard_id: str, iterator: str, limit: int = 10_000
    ) -> tuple[list[StreamRecord], str | None, int]:
        return [], iterator, 0


class Checkpoints(dict[str, str]):
    def load(self, shard_id: str) -> str | None:
        return self.get(shard_id)


def test_first_listing_starts_after_checkpoints_else_at_the_starting_position() -> None:
    stream, clock = Stream("a", "b"), Clock()
    discovery = ShardDiscovery(stream, Checkpoints(a="0042"), "LATEST", clock, "test")
    readers = {r.shard_id: r for r in discovery.new_shards(set())}
    assert readers["a"].iterator == "a:0042"
    assert (readers["a"].last_read, readers["a"].from_latest) == ("0042", False)
    assert readers["b"].iterator == "b:LATEST"
    assert (readers["b"].last_read, readers["b"].from_latest) == (None, True)


def test_a_shard_found_later_is_a_reshard_child_read_from_its_start() -> None:
    stream, clock = Stream("a"), Clock()
    discovery = ShardDiscovery(stream, Checkpoints(), "LATEST", clock, "test")
    assert [r.iterator for r in discovery.new_shards(set())] == ["a:LATEST"]
    stream.shards.append("c")
    assert discovery.new_shards({"a"}) == []  # not before the next refresh
    clock.now += SHARD_REFRESH_S
    assert [r.iterator for r in discovery.new_shards({"a"})] == ["c:TRIM_HORIZON"]


def test_only_the_first_listing_raises() -> None:
    stream, clock = Stream("a"), Clock()
    stream.fail_listing = True
    discovery = ShardDiscovery(stream, Checkpoints(), "TRIM_HORIZON", clock, "test")
    with pytest.raises(ClientError):
        discovery.new_shards(set())
    stream.fail_listing = False
    assert len(discovery.new_shards(set())) == 1
    stream.fail_listing = True
    clock.now += SHARD_REFRESH_S
    assert discovery.new_shards({"a"}) == []


def test_kinesis_down_at_the_first_listing_is_waited_for() -> None:
    # A consumer started while Kinesis restarts (CI: a fault test's worker died of this).
    stream, clock = Stream("a", "b"), Clock()
    stream.down = True
    discovery = ShardDiscovery(stream, Checkpoints(a="0042"), "LATEST", clock, "test")
    assert discovery.new_shards(set()) == []
    stream.down = False
    assert discovery.new_shards(set()) == []  # tried again a second later, not at once
    clock.now += UNREACHABLE_RETRY_S
    stream.down_for_iterators = {"b"}  # and it goes away again half-way
    assert [r.iterator for r in discovery.new_shards(set())] == ["a:0042"]
    stream.down_for_iterators = set()
    clock.now += UNREACHABLE_RETRY_S
    # Still the first listing for b: the starting position, not a reshard child's start.
    assert [r.iterator for r in discovery.new_shards({"a"})] == ["b:LATEST"]
    clock.now += UNREACHABLE_RETRY_S
    assert discovery.new_shards({"a", "b"}) == []  # listed: now every 30 s


def test_backoff_doubles_to_five_seconds_and_a_success_starts_again() -> None:
    backoff = Backoff()
    delays = []
    for _ in range(8):
        backoff.failed(100.0)
        delays.append(backoff.delay_s)
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert backoff.retry_at == 105.0
    backoff.succeeded()
    backoff.failed(200.0)
    assert (backoff.delay_s, backoff.retry_at) == (0.1, 200.1)
