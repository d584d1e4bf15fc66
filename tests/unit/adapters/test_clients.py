from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.utils import parse_timestamp
from moto import mock_aws

from glucosestream.adapters.clients import aws_client, epoch_or_text_timestamp
from glucosestream.settings import load_settings


@pytest.mark.parametrize("value", [1_767_225_600, 1_767_225_600.123, 0, 2_145_916_799.999])
def test_epoch_seconds_parse_to_the_same_instant_as_botocore_in_utc(value: float) -> None:
    parsed = epoch_or_text_timestamp(value)
    assert parsed == parse_timestamp(value)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2026-12-05T10:15:00Z", "2026-12-05T10:15:00.250+01:00", "Sat, 05 Dec 2026 10:15:00 GMT"],
)
def test_text_timestamps_go_to_botocore(text: str) -> None:
    assert epoch_or_text_timestamp(text) == parse_timestamp(text)


def test_unparseable_text_raises_as_botocore_does() -> None:
    with pytest.raises(ValueError, match="Invalid timestamp"):
        epoch_or_text_timestamp("not a time")


def test_a_kinesis_record_read_through_aws_client_carries_its_arrival_in_utc() -> None:
    settings = load_settings(mode="aws", pseudonym_key="k" * 32, region="eu-west-1", env="test")
    with mock_aws():
        kinesis = aws_client("kinesis", settings)
        kinesis.create_stream(StreamName="s", ShardCount=1)
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="p")
        shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(
            StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    arrival = record["ApproximateArrivalTimestamp"]
    assert arrival.tzinfo is UTC
    assert abs((datetime.now(UTC) - arrival).total_seconds()) < 300
