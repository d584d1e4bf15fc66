"""The settings of a worker in a temporary state directory, and a lake bucket in moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(state_dir=tmp_path, env="t")


@pytest.fixture
def s3_lake(settings: Settings) -> Iterator[S3LakeStorage]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=settings.names.lake_bucket,
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        yield S3LakeStorage(client, settings.names.lake_bucket)
