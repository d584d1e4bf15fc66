from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from glucosestream.adapters.kinesis import KinesisError, KinesisStream, batches
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


def test_put_batch_refuses_empty_or_oversized_batches() -> None:
    stream, _ = _stubbed()
    with pytest.raises(KinesisError, match="1-500 records"):
        stream.put_batch([])
    with pytest.raises(KinesisError, match="1-500 records"):
        stream.put_batch([Entry(b"x", "p")] * 501)
