"""`glucosestream simulate --publish` into the local stack, plain and KPL-aggregated."""

from __future__ import annotations

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.cli.main import main
from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import partition_hash
from glucosestream.contract.kpl import deaggregate
from glucosestream.settings import Settings
from stream.simulator import CohortConfig, simulate

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("aggregate", [False, True])
def test_every_simulated_reading_reaches_the_stream(
    stack_env: Settings,
    aggregate: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = aws_client("kinesis", stack_env)
    stream = readings_stream(stack_env, client)
    tips = {shard: stream.shard_iterator(shard, latest=True) for shard in stream.shard_ids()}

    argv = ["simulate", "--patients", "6", "--days", "1", "--seed", "9", "--publish"]
    assert main(argv + (["--aggregate"] if aggregate else [])) == 0

    expected = [
        d.reading.event_id
        for d in simulate(
            CohortConfig(patients=6, days=1, seed=9, pseudonym_key=stack_env.pseudonym_key_bytes)
        )
    ]
    records = [r for shard, it in tips.items() for r in stream.read_from(shard, it)]
    codec = default_codec()
    received = [
        codec.decode(user.data)["event_id"]
        for record in records
        for user in deaggregate(record.data, record.partition_key)
    ]
    assert sorted(received) == sorted(expected)
    out = capsys.readouterr().out
    assert f"published {len(expected)} readings in {len(records)} Kinesis records" in out
    if aggregate:
        assert len(records) * 20 <= len(expected)
    # Every reading is in the shard its own partition key maps to (aggregates are per shard).
    shards = client.list_shards(StreamName=stack_env.names.readings_stream)["Shards"]
    owner = {
        s["ShardId"]: (
            int(s["HashKeyRange"]["StartingHashKey"]),
            int(s["HashKeyRange"]["EndingHashKey"]),
        )
        for s in shards
    }
    for record in records:
        low, high = owner[record.shard_id]
        for user in deaggregate(record.data, record.partition_key):
            assert low <= partition_hash(user.partition_key) <= high
