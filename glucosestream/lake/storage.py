"""The lake storage port: objects under keys with the S3 bucket's key layout.

Implementations: :class:`glucosestream.adapters.s3_lake.S3LakeStorage` (aws mode: the lake bucket)
and :class:`glucosestream.lake.directory.LocalLakeStorage` (local mode: a directory, ``.gs/lake``
by default).
Keys are ``/``-separated, never start with ``/`` and never contain ``..``; a "prefix" ends with
``/``. Writing an object is atomic: a reader sees the old object, or the new one, never a part.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LakeObject:
    key: str
    size: int


def hidden_from_queries(name: str) -> bool:
    """Whether Athena skips an object because this component of its key (a file or directory
    name) starts with ``.`` or ``_``: temporaries, staging, a crash's leftovers (Hive's rule).
    Every reader of the lake applies it, so a query sees the same rows in both modes."""
    return name.startswith((".", "_"))


def visible_to_queries(parts: Sequence[str], size: int) -> bool:
    """Whether Athena reads an object, given its key's parts below a table's location and its
    size: not a folder marker, not empty, no part hidden (:func:`hidden_from_queries`)."""
    return size > 0 and bool(parts[-1]) and not any(hidden_from_queries(p) for p in parts)


class LakeAccessDenied(PermissionError):
    """The lake refused access; the message names the bucket (or directory) and the prefix."""


class LakeStorage(Protocol):
    """Objects of the lake, addressed by key."""

    def uri(self, key: str) -> str:
        """``s3://<lake bucket>/<key>``: how Athena (and the local Athena) name a location."""
        ...

    def list(self, prefix: str) -> Iterator[LakeObject]:
        """Every object under ``prefix`` (recursively), in key order."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """The object's bytes; ``FileNotFoundError`` naming the key when there is none."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None:
        """Create or replace the object, atomically."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Delete these objects (missing ones are fine: deleting is idempotent)."""
        ...
