"""Producer: partial failures, throttling, endpoint outages, and giving up loudly."""

from __future__ import annotations

import random
from collections.abc import Sequence

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from glucosestream.adapters.kinesis import KinesisStream, PutResult
from glucosestream.adapters.producer import Producer, PublishError
from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import Entry, partition_hash
from glucosestream.contract.kpl import deaggregate
from tests.factories import trace
from tests.support.clock import FakeClock


class FlakyStream:
    """A KinesisStream double whose calls fail as a script says (moto never throttles)."""

    def __init__(self, script: list[object], shards: int = 2) -> None:
        self.script = script
        self.accepted: list[Entry] = []
        self.calls: list[int] = []
        step = 2**128 // shards
        self.ranges = [(i * step, (i + 1) * step - 1) for i in range(shards)]

    def shard_hash_ranges(self) -> list[tuple[int, int]]:
        return self.ranges

    def put_batch(self, batch: Sequence[Entry]) -> PutResult:
        self.calls.append(len(batch))
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        if step == "ok":
            self.accepted.extend(batch)
            return PutResult([], [])
        failed = [i for i in range(len(batch)) if i % 2 == 0]  # "half": every other entry
        self.accepted.extend(e for i, e in enumerate(batch) if i not in failed)
        return PutResult(failed, ["ProvisionedThroughputExceededException"] * len(failed))


def _producer(stream: object, clock: FakeClock, give_up_after_s: float = 30.0) -> Producer:
    return Producer(
        stream,  # type: ignore[arg-type]
        give_up_after_s=give_up_after_s,
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(7),
    )


def _decoded_ids(entries: list[Entry]) -> list[str]:
    return [default_codec().decode(e.data)["event_id"] for e in entries]


def test_everything_is_sent_in_batches_of_at_most_500() -> None:
    readings = trace(1, 700) + trace(2, 600)
    stream, clock = FlakyStream([]), FakeClock()
    report = _producer(stream, clock).publish(readings)
    assert report.sent == 1300
    assert stream.calls == [500, 500, 300]
    assert _decoded_ids(stream.accepted) == [r.event_id for r in readings]
    assert {e.partition_key for e in stream.accepted} == {r.patient_id for r in readings}


def test_only_failed_entries_are_retried_with_growing_jittered_backoff() -> None:
    readings = trace(1, 400)
    stream, clock = FlakyStream(["half", "half", "half"]), FakeClock()
    report = _producer(stream, clock).publish(readings)
    assert stream.calls == [400, 200, 100, 50]
    assert report.sent == 400
    assert report.retried_entries == 350
    assert sorted(_decoded_ids(stream.accepted)) == sorted(r.event_id for r in readings)
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= c for s, c in zip(clock.sleeps, [0.05, 0.1, 0.2], strict=True))


def test_endpoint_outage_is_retried_until_it_comes_back() -> None:
    readings = trace(1, 10)
    outage = EndpointConnectionError(endpoint_url="http://127.0.0.1:4567")
    stream, clock = FlakyStream([outage] * 6), FakeClock()
    report = _producer(stream, clock).publish(readings)
    assert report.sent == 10
    assert report.error_codes == {"EndpointConnectionError": 60}
    assert len(stream.accepted) == 10


def test_gives_up_after_the_bound_and_says_what_was_not_sent() -> None:
    readings = trace(1, 600)
    outage = EndpointConnectionError(endpoint_url="http://127.0.0.1:4567")
    stream, clock = FlakyStream(["ok"] + [outage] * 1000), FakeClock()
    with pytest.raises(PublishError, match="gave up after 5 s with 100 readings") as raised:
        _producer(stream, clock, give_up_after_s=5).publish(readings)
    assert raised.value.report.sent == 500
    assert [r.event_id for r in raised.value.unsent] == [r.event_id for r in readings[500:]]
    assert clock.now >= 5


def test_throttling_error_from_the_api_is_retried_and_other_errors_stop_at_once() -> None:
    client = boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    stream = KinesisStream(client, "gs-test-readings")
    readings = trace(1, 3)
    clock = FakeClock()
    with Stubber(client) as stubber:
        stubber.add_client_error("put_records", "ProvisionedThroughputExceededException")
        stubber.add_response(
            "put_records",
            {"Records": [{"SequenceNumber": str(i), "ShardId": "s"} for i in range(3)]},
        )
        assert _producer(stream, clock).publish(readings).sent == 3
        stubber.add_client_error("put_records", "ResourceNotFoundException")
        with pytest.raises(PublishError, match="refused the batch \\(ResourceNotFoundException\\)"):
            _producer(stream, clock).publish(readings)


def test_aggregation_packs_readings_into_far_fewer_records_and_loses_none() -> None:
    readings = [r for p in range(1, 21) for r in trace(p, 288)]
    stream, clock = FlakyStream(["half"]), FakeClock()
    producer = Producer(stream, aggregate=True, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    report = producer.publish(readings)
    assert report.sent == len(readings)
    assert report.kinesis_records * 20 <= len(readings)
    unpacked = [
        user for entry in stream.accepted for user in deaggregate(entry.data, entry.partition_key)
    ]
    codec = default_codec()
    assert sorted(codec.decode(u.data)["event_id"] for u in unpacked) == sorted(
        r.event_id for r in readings
    )
    assert all(codec.decode(u.data)["patient_id"] == u.partition_key for u in unpacked)


def test_a_stuck_aggregate_reports_every_reading_inside_it_as_unsent() -> None:
    readings = trace(1, 100)
    outage = EndpointConnectionError(endpoint_url="http://127.0.0.1:4567")
    stream, clock = FlakyStream([outage] * 100), FakeClock()
    producer = Producer(
        stream,
        aggregate=True,
        give_up_after_s=1,
        sleep=clock.sleep,
        clock=clock,  # type: ignore[arg-type]
    )
    with pytest.raises(PublishError, match="100 readings of a batch not accepted") as raised:
        producer.publish(readings)
    assert [r.event_id for r in raised.value.unsent] == [r.event_id for r in readings]


def test_aggregates_are_per_shard_so_each_reading_reaches_its_own_shard() -> None:
    readings = [r for p in range(1, 31) for r in trace(p, 40)]
    stream, clock = FlakyStream([], shards=2), FakeClock()
    producer = Producer(stream, aggregate=True, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    producer.publish(readings)

    def shard_of(hash_key: int) -> int:
        return next(i for i, (lo, hi) in enumerate(stream.ranges) if lo <= hash_key <= hi)

    seen_shards: dict[str, set[int]] = {}
    for entry in stream.accepted:
        assert entry.explicit_hash_key is not None
        target = shard_of(int(entry.explicit_hash_key))
        users = deaggregate(entry.data, entry.partition_key)
        for user in users:
            # Each reading goes where its own partition key would have taken it.
            assert shard_of(partition_hash(user.partition_key)) == target
            seen_shards.setdefault(user.partition_key, set()).add(target)
    assert len(seen_shards) == 30
    assert all(len(shards) == 1 for shards in seen_shards.values())
    assert {next(iter(s)) for s in seen_shards.values()} == {0, 1}  # both shards used
    # Per patient, readings keep their order across aggregates.
    codec = default_codec()
    order: dict[str, list[int]] = {}
    for entry in stream.accepted:
        for user in deaggregate(entry.data, entry.partition_key):
            order.setdefault(user.partition_key, []).append(codec.decode(user.data)["measured_at"])
    assert all(times == sorted(times) for times in order.values())
