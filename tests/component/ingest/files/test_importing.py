"""Import --to-lake into the lake bucket on S3 (moto, in-process)."""

from __future__ import annotations

import io
import re

import boto3
import pyarrow.parquet as pq
from moto import mock_aws

from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.ingest.files.importing import LakeWrite, write_to_lake
from tests.factories import trace


def test_to_lake_into_the_lake_bucket_on_s3_is_idempotent_too() -> None:
    readings = trace(2, 30)  # 150 minutes: hours 00-02 of 2026-01-05
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket="gs-test-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        lake = S3LakeStorage(client, "gs-test-lake")
        assert write_to_lake(readings[:20], lake, now_ms=1_800_000_000_000) == LakeWrite(20, 0)
        assert write_to_lake(readings, lake, now_ms=1_800_000_100_000) == LakeWrite(10, 20)
        keys = [item.key for item in lake.list("raw/")]
        rows = [
            row
            for key in keys
            for row in pq.read_table(io.BytesIO(lake.read_bytes(key))).to_pylist()
        ]
    assert all(
        re.fullmatch(
            r"raw/readings/dt=2026-01-05/hour=0[0-2]/import-[-0-9]{19}-[0-9a-f]{32}\.parquet", k
        )
        for k in keys
    ), keys
    assert sorted(r["event_id"] for r in rows) == sorted(r.event_id for r in readings)
    assert {r["source"] for r in rows} == {"CGM"}
