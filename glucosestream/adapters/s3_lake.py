"""The lake on S3: :class:`S3LakeStorage`, the lake storage port over the lake bucket.

The boto3 S3 client is injected (built by :func:`glucosestream.adapters.clients.aws_client`).
A PutObject is atomic on S3 (a reader gets the old object or the new one), so ``write_bytes``
needs no temporary. Access denied becomes :class:`LakeAccessDenied` naming the bucket and prefix,
so that a missing IAM permission reads as one line, not a stack of botocore frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from glucosestream.lake.directory import check_key, check_prefix
from glucosestream.lake.storage import LakeAccessDenied, LakeObject

DELETE_BATCH = 1000
"""DeleteObjects takes at most 1000 keys per request."""
_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccessDeniedException", "403"})
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class LakeDeleteFailed(RuntimeError):
    """DeleteObjects reported per-key errors (the message names the first few)."""


class S3LakeStorage:
    """Objects of one bucket, addressed by key."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _denied(self, error: ClientError, where: str) -> LakeAccessDenied | None:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _DENIED:
            return LakeAccessDenied(
                f"access denied to s3://{self.bucket}/ under {where!r} ({code}): check the "
                "function's IAM role and the bucket policy"
            )
        return None

    def list(self, prefix: str) -> Iterator[LakeObject]:
        check_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            # ListObjectsV2 returns keys in UTF-8 binary order, which is key order for our keys.
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield LakeObject(str(item["Key"]), int(item["Size"]))
        except ClientError as error:
            raise self._denied(error, prefix) or error from None

    def read_bytes(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise FileNotFoundError(f"no object {key} in s3://{self.bucket}/") from None
            raise self._denied(error, key) or error from None
        data: bytes = response["Body"].read()
        return data

    def write_bytes(self, key: str, data: bytes) -> None:
        check_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except ClientError as error:
            raise self._denied(error, key) or error from None

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            check_key(key)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            except ClientError as error:
                raise self._denied(error, batch[0]) or error from None
            errors = response.get("Errors", [])
            if any(e.get("Code") in _DENIED for e in errors):
                raise LakeAccessDenied(
                    f"access denied to s3://{self.bucket}/ deleting {errors[0].get('Key')!r}"
                )
            if errors:
                named = ", ".join(f"{e.get('Key')} ({e.get('Code')})" for e in errors[:3])
                raise LakeDeleteFailed(
                    f"s3://{self.bucket}/: {len(errors)} objects not deleted: {named}"
                )
