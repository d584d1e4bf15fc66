"""S3LakeStorage beyond the shared port suite (tests/component/lake/test_storage.py): paging,
batched deletes, access denied naming the bucket and the prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from glucosestream.adapters.s3_lake import LakeDeleteFailed, S3LakeStorage
from glucosestream.lake.storage import LakeAccessDenied

BUCKET = "gs-test-lake"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


class Recording:
    """The S3 client, with each call's name and keyword arguments recorded."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return method(*args, **kwargs)

        return recorded if callable(method) else method


def test_listing_follows_every_page(s3: Any) -> None:
    storage = S3LakeStorage(s3, BUCKET)
    keys = [f"raw/readings/dt=2024-03-01/hour=06/f{i:04d}.parquet" for i in range(2345)]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    assert [o.key for o in storage.list("raw/readings/")] == keys  # > 2 pages of 1000


def test_deleting_2500_objects_takes_three_requests(s3: Any) -> None:
    keys = [f"curated/readings/v=old/dt=2024-03-01/part-{i:04d}.parquet" for i in range(2500)]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    recording = Recording(s3)
    S3LakeStorage(recording, BUCKET).delete(keys)
    batches = [len(kw["Delete"]["Objects"]) for name, kw in recording.calls]
    assert batches == [1000, 1000, 500]
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def _denied() -> dict[str, Any]:
    return {
        "service_error_code": "AccessDenied",
        "service_message": "Access Denied",
        "http_status_code": 403,
    }


def _call(storage: S3LakeStorage, name: str, *arguments: Any) -> None:
    result = getattr(storage, name)(*arguments)
    if name == "list":
        list(result)  # a generator: the request goes out when it is iterated


@pytest.mark.parametrize(
    ("method", "arguments", "where"),
    [
        ("list_objects_v2", ("list", "curated/readings/"), "curated/readings/"),
        ("get_object", ("read_bytes", "pipeline_state/elt.json"), "pipeline_state/elt.json"),
        ("put_object", ("write_bytes", "marts/x/part.parquet", b"x"), "marts/x/part.parquet"),
        ("delete_objects", ("delete", ["marts/x/part.parquet"]), "marts/x/part.parquet"),
    ],
)
def test_access_denied_names_the_bucket_and_the_prefix(
    method: str, arguments: tuple[Any, ...], where: str
) -> None:
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    storage = S3LakeStorage(client, BUCKET)
    with Stubber(client) as stub:
        stub.add_client_error(method, **_denied())
        with pytest.raises(LakeAccessDenied) as raised:
            _call(storage, *arguments)
    message = str(raised.value)
    assert f"s3://{BUCKET}/" in message
    assert repr(where) in message
    assert "\n" not in message


def test_per_key_delete_errors_are_not_swallowed() -> None:
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "delete_objects",
            {"Errors": [{"Key": "marts/x/a.parquet", "Code": "InternalError", "Message": "x"}]},
        )
        with pytest.raises(LakeDeleteFailed, match=r"1 objects not deleted: marts/x/a\.parquet"):
            S3LakeStorage(client, BUCKET).delete(["marts/x/a.parquet"])
