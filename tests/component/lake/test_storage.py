"""The lake storage port's behaviour, the same suite for both implementations: the local
directory (:class:`LocalLakeStorage`) and S3 (:class:`S3LakeStorage` under moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.storage import LakeObject, LakeStorage

BUCKET = "gs-test-lake"


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LakeStorage]:
    if request.param == "local":
        yield LocalLakeStorage(tmp_path / "lake", BUCKET)
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield S3LakeStorage(client, BUCKET)


RAW = "raw/readings/dt=2024-03-01/hour=06/"


def test_uri_names_the_lake_bucket(storage: LakeStorage) -> None:
    assert storage.uri("curated/readings/dt=2024-03-01/") == (
        f"s3://{BUCKET}/curated/readings/dt=2024-03-01/"
    )


def test_written_objects_read_back_and_list_recursively_in_key_order(
    storage: LakeStorage,
) -> None:
    storage.write_bytes(RAW + "b.parquet", b"second")
    storage.write_bytes(RAW + "a.parquet", b"first!")
    storage.write_bytes("raw/readings/dt=2024-02-29/hour=23/z.parquet", b"z")
    storage.write_bytes("pipeline_state/elt.json", b"{}")

    assert list(storage.list("raw/readings/")) == [
        LakeObject("raw/readings/dt=2024-02-29/hour=23/z.parquet", 1),
        LakeObject(RAW + "a.parquet", 6),
        LakeObject(RAW + "b.parquet", 6),
    ]
    assert storage.read_bytes(RAW + "a.parquet") == b"first!"
    assert [o.key for o in storage.list("")][-1] == RAW + "b.parquet"


def test_listing_a_prefix_with_nothing_under_it_is_empty(storage: LakeStorage) -> None:
    assert list(storage.list("curated/readings/")) == []
    storage.write_bytes("curated/readingsX/a", b"x")  # a sibling sharing the text, not the prefix
    assert list(storage.list("curated/readings/")) == []


def test_writing_again_replaces_the_object(storage: LakeStorage) -> None:
    storage.write_bytes("pipeline_state/elt.json", b'{"version": 1}')
    storage.write_bytes("pipeline_state/elt.json", b'{"version": 2}')
    assert storage.read_bytes("pipeline_state/elt.json") == b'{"version": 2}'
    assert [o.key for o in storage.list("pipeline_state/")] == ["pipeline_state/elt.json"]


def test_a_missing_object_is_file_not_found_naming_the_key(storage: LakeStorage) -> None:
    with pytest.raises(FileNotFoundError, match=r"pipeline_state/elt\.json"):
        storage.read_bytes("pipeline_state/elt.json")


def test_delete_is_idempotent_and_leaves_other_objects(storage: LakeStorage) -> None:
    keys = [f"marts/agp_profile/period_end=2024-03-14/part-{i}.parquet" for i in range(3)]
    for key in keys:
        storage.write_bytes(key, b"x")
    storage.write_bytes("marts/agp_profile/period_end=2024-03-15/part-0.parquet", b"y")
    storage.delete([*keys[:2], "marts/agp_profile/never-written.parquet"])
    storage.delete(keys[:2])
    assert [o.key for o in storage.list("marts/")] == [
        keys[2],
        "marts/agp_profile/period_end=2024-03-15/part-0.parquet",
    ]
    storage.delete([keys[2]])
    assert list(storage.list("marts/agp_profile/period_end=2024-03-14/")) == []


def test_bad_keys_are_refused(storage: LakeStorage) -> None:
    for key in ("/etc/passwd", "raw/../../x", ""):
        with pytest.raises(ValueError, match="not a lake key"):
            storage.write_bytes(key, b"x")
    with pytest.raises(ValueError, match="not a lake prefix"):
        list(storage.list("raw/readings"))
