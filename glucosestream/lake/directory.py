"""The lake as a local directory: :class:`LocalLakeStorage`, the lake storage port over a folder.

Local mode's lake bucket is ``.gs/lake`` (``Settings.lake_dir``), with the bucket's key layout, so
``s3://<lake bucket>/<key>`` and ``<lake dir>/<key>`` name the same object. Not under
``glucosestream.local``: it needs nothing of the one-machine runtime (no servers, no DuckDB), and
tests and tools use it as readily as local mode's composition root does.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from glucosestream.lake.durable_files import make_directories, write_atomically
from glucosestream.lake.storage import LakeAccessDenied, LakeObject

TEMPORARY_PREFIX = ".gs-lake-"
"""Names of the hidden temporaries of writes in progress (or of writes a crash interrupted)."""


def check_key(key: str) -> str:
    """A lake key as the port defines it (``/``-separated, relative, no ``..``), or ValueError."""
    if not key or key.startswith("/") or "\\" in key or ".." in key.split("/"):
        raise ValueError(f"{key!r} is not a lake key")
    return key


def check_prefix(prefix: str) -> str:
    """A prefix is empty (the whole lake) or a key ending with ``/``."""
    if prefix:
        if not prefix.endswith("/"):
            raise ValueError(f"{prefix!r} is not a lake prefix (it must end with '/')")
        check_key(prefix[:-1])
    return prefix


class LocalLakeStorage:
    """Objects under ``root`` (a directory), addressed by key; ``uri`` names them as
    ``s3://<bucket>/<key>`` so that SQL locations are those of the lake bucket.

    Writes are atomic and durable: a hidden temporary beside the object, fsynced, ``os.replace``,
    then the directory fsynced (a rename survives a power cut only once its directory entry is on
    disk; the Firehose stand-in checkpoints after ``write_bytes`` returns). Hidden
    temporaries are never listed (names starting with ``.gs-lake-``); other hidden names are
    (Firehose's own temporaries and staging directories are the caller's to skip, as Athena
    skips keys with a ``.`` or ``_`` component).
    """

    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def path(self, key: str) -> Path:
        """The file holding ``key`` (local mode's composition root maps locations with it)."""
        return self.root / check_key(key)

    def list(self, prefix: str) -> Iterator[LakeObject]:
        check_prefix(prefix)
        top = self.root / prefix if prefix else self.root
        if not top.is_dir():
            return
        found: list[LakeObject] = []
        try:
            for directory, _, files in os.walk(top):
                for name in files:
                    if name.startswith(TEMPORARY_PREFIX):
                        continue
                    path = Path(directory, name)
                    with contextlib.suppress(FileNotFoundError):  # deleted while listing
                        size = path.stat().st_size
                        found.append(LakeObject(path.relative_to(self.root).as_posix(), size))
        except PermissionError:
            raise LakeAccessDenied(f"access denied to {self.root} under {prefix!r}") from None
        yield from sorted(found, key=lambda item: item.key)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise FileNotFoundError(f"no object {key} in the lake ({self.root})") from None
        except PermissionError:
            raise LakeAccessDenied(f"access denied to {self.root} under {key!r}") from None

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self.path(key)
        make_directories(path.parent)
        temporary = path.with_name(f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}")
        try:
            write_atomically(path, data, temporary=temporary)
        except PermissionError:
            raise LakeAccessDenied(f"access denied to {self.root} under {key!r}") from None

    def remove_temporaries(self, prefix: str) -> int:
        """Delete the temporaries of writes a crash interrupted under ``prefix``; how many.

        Only for a writer starting up that owns the prefix (the Firehose stand-in owns the raw and
        error prefixes): the temporary of another writer's write in progress would go too.
        """
        check_prefix(prefix)
        top = self.root / prefix if prefix else self.root
        removed = 0
        if top.is_dir():
            for leftover in top.rglob(f"{TEMPORARY_PREFIX}*"):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
                    removed += 1
        return removed

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            path = self.path(key)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self._remove_empty_parents(path.parent)

    def _remove_empty_parents(self, directory: Path) -> None:
        """S3 has no directories: an emptied "folder" disappears there, so it does here."""
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:  # not empty (or gone): stop
                return
            directory = directory.parent
