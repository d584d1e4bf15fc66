"""The lake storage port on S3 (aws mode): objects of the lake bucket, boto3 client injected.

Minimal: list (paginated), read, write, delete. Errors name the bucket and the key or prefix:
a missing object is ``FileNotFoundError``, a refusal :class:`LakeAccessDenied`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from glucosestream.ports.lake_storage import LakeAccessDenied, LakeObject

MAX_KEYS_PER_DELETE = 1000
"""DeleteObjects takes at most 1,000 keys."""
_MISSING = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "KMS.AccessDenied"}


class S3LakeStorage:
    """The lake bucket through an S3 client (``aws_client("s3", settings)``)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{_checked(key)}"

    def list(self, prefix: str) -> Iterator[LakeObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=_checked(prefix)
        )
        try:
            for page in pages:
                for entry in page.get("Contents", []):
                    yield LakeObject(key=entry["Key"], size=int(entry["Size"]))
        except ClientError as error:
            raise self._error(error, prefix) from None

    def read_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=_checked(key))
        except ClientError as error:
            raise self._error(error, key) from None
        data: bytes = response["Body"].read()
        return data

    def write_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=_checked(key), Body=data)
        except ClientError as error:
            raise self._error(error, key) from None

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), MAX_KEYS_PER_DELETE):
            chunk = [{"Key": _checked(key)} for key in keys[start : start + MAX_KEYS_PER_DELETE]]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True}
                )
            except ClientError as error:
                raise self._error(error, chunk[0]["Key"]) from None
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise self._error(
                    ClientError({"Error": first}, "DeleteObjects"), str(first.get("Key", ""))
                )

    def _error(self, error: ClientError, key: str) -> Exception:
        code = str(error.response.get("Error", {}).get("Code", ""))
        where = f"s3://{self.bucket}/{key}"
        if code in _MISSING:
            return FileNotFoundError(f"no object {where}")
        if code in _DENIED:
            return LakeAccessDenied(f"access denied to {where} ({code})")
        return error


def _checked(key: str) -> str:
    if key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"{key!r} is not a lake key (no leading '/', no '..')")
    return key
