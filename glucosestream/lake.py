"""The lake storage port on a directory (local mode: ``.gs/lake``, the lake bucket's key layout).

Minimal: the grid-metrics step's reads and writes. A write goes to a hidden temporary beside
the object and is renamed over it, so a reader sees the old object or the new one; listings
skip those temporaries.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from glucosestream.ports.lake_storage import LakeObject

_PARTIAL = ".partial-"


class LocalLakeStorage:
    """The objects of ``root``, named ``s3://<bucket>/<key>`` as the lake bucket names them."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root
        self.bucket = bucket

    def uri(self, key: str) -> str:
        _checked(key)
        return f"s3://{self.bucket}/{key}"

    def path(self, key: str) -> Path:
        return self.root / _checked(key)

    def list(self, prefix: str) -> Iterator[LakeObject]:
        _checked(prefix)
        # The deepest directory the prefix names; the rest of it filters names below.
        directory = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not directory.is_dir():
            return
        found = []
        for path in directory.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix) and _PARTIAL not in path.name:
                found.append(LakeObject(key=key, size=path.stat().st_size))
        yield from sorted(found, key=lambda item: item.key)

    def read_bytes(self, key: str) -> bytes:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no object {self.uri(key)}")
        return path.read_bytes()

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}{_PARTIAL}{uuid.uuid4().hex}")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)


def _checked(key: str) -> str:
    if key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"{key!r} is not a lake key (no leading '/', no '..')")
    return key
