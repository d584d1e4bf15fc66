"""The lake storage port on S3, against moto's in-process S3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.ports.lake_storage import LakeAccessDenied, LakeObject

BUCKET = "gs-dev-lake"


@pytest.fixture
def lake() -> Iterator[S3LakeStorage]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield S3LakeStorage(client, BUCKET)


def test_write_list_read_delete(lake: S3LakeStorage) -> None:
    keys = [f"work/grid/in/chunk={n:05d}/part.parquet" for n in range(1203)]
    for key in keys[:3] + keys[-2:]:
        lake.write_bytes(key, key.encode())
    lake.write_bytes("work/other.txt", b"x")
    assert list(lake.list("work/grid/in/")) == [
        LakeObject(key, len(key.encode())) for key in sorted(keys[:3] + keys[-2:])
    ]
    assert lake.read_bytes(keys[1]) == keys[1].encode()
    lake.delete(keys)  # more than one DeleteObjects call; missing keys are fine
    assert list(lake.list("work/grid/")) == []
    assert lake.uri("marts/a") == "s3://gs-dev-lake/marts/a"


def test_list_pages_through_more_than_1000_objects(lake: S3LakeStorage) -> None:
    for n in range(1005):
        lake.write_bytes(f"p/{n:05d}", b"")
    assert len(list(lake.list("p/"))) == 1005


def test_a_missing_object_names_bucket_and_key(lake: S3LakeStorage) -> None:
    with pytest.raises(FileNotFoundError, match="no object s3://gs-dev-lake/work/none"):
        lake.read_bytes("work/none")


def test_access_denied_names_bucket_and_prefix() -> None:
    client: Any = boto3.client("s3", region_name="eu-west-1")
    lake = S3LakeStorage(client, BUCKET)
    with Stubber(client) as stub:
        stub.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403)
        with pytest.raises(LakeAccessDenied, match=r"s3://gs-dev-lake/work/grid/ \(AccessDenied\)"):
            list(lake.list("work/grid/"))


@pytest.mark.parametrize("key", ["/abs", "a/../b"])
def test_keys_outside_the_bucket_layout_are_refused(lake: S3LakeStorage, key: str) -> None:
    with pytest.raises(ValueError, match="is not a lake key"):
        lake.read_bytes(key)
