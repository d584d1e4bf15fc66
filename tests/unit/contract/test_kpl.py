"""KPL aggregation: round trip, and corrupt aggregates fail loudly instead of vanishing."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glucosestream.contract.entries import Entry
from glucosestream.contract.kpl import (
    MAGIC,
    AggregatedRecord,
    AggregationError,
    aggregate,
    deaggregate,
    is_aggregated,
)


def _entries(count: int) -> list[tuple[Entry, int]]:
    return [(Entry(f"reading-{i}".encode() * 10, f"p_{i % 7}"), i) for i in range(count)]


def test_round_trip_keeps_order_keys_and_payloads() -> None:
    items = _entries(1000)
    aggregates = list(aggregate(items, max_bytes=8 * 1024))
    assert len(aggregates) > 1
    assert [i for _, payloads in aggregates for i in payloads] == list(range(1000))
    unpacked = [u for e, _ in aggregates for u in deaggregate(e.data, e.partition_key)]
    assert [(u.partition_key, u.data) for u in unpacked] == [
        (e.partition_key, e.data) for e, _ in items
    ]
    assert all(len(e.data) <= 8 * 1024 for e, _ in aggregates)


def test_plain_records_pass_through() -> None:
    (user,) = deaggregate(b"\xc3\x01not aggregated", "p_1")
    assert (user.partition_key, user.data, user.sub_sequence) == (
        "p_1",
        b"\xc3\x01not aggregated",
        0,
    )
    assert not is_aggregated(b"\xc3\x01")


def test_corrupt_digest_is_an_error() -> None:
    ((entry, _),) = aggregate(_entries(5))
    broken = entry.data[:-1] + bytes([entry.data[-1] ^ 1])
    with pytest.raises(AggregationError, match="MD5"):
        deaggregate(broken, entry.partition_key)


def test_truncated_aggregate_is_an_error() -> None:
    ((entry, _),) = aggregate(_entries(5))
    with pytest.raises(AggregationError):
        deaggregate(entry.data[:30], entry.partition_key)


def test_bad_partition_key_index_is_an_error_not_a_silent_skip() -> None:
    message = AggregatedRecord()
    message.partition_key_table.append("p_1")
    record = message.records.add()
    record.partition_key_index = 3
    record.data = b"x"
    body = message.SerializeToString()
    data = MAGIC + body + hashlib.md5(body).digest()
    with pytest.raises(AggregationError, match="partition key 3 of a table of 1"):
        deaggregate(data, "p_1")


def test_a_record_too_big_for_one_aggregate_is_refused() -> None:
    with pytest.raises(AggregationError, match="too big"):
        list(aggregate([(Entry(b"x" * 5000, "p"), 0)], max_bytes=1024))


@given(st.binary(max_size=300))
def test_random_bytes_after_the_magic_never_raise_anything_else(noise: bytes) -> None:
    with contextlib.suppress(AggregationError):
        deaggregate(MAGIC + noise, "p")
