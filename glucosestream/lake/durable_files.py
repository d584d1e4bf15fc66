"""Durable file-system writes: whole files that replace the old ones atomically, and directory
entries that survive a power cut (stdlib only)."""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO


def fsync_directory(path: Path) -> None:
    """Make the entries of a directory (new and renamed files) durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_directories(path: Path) -> None:
    """``mkdir -p`` that fsyncs the parent of every directory it creates."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir()
        fsync_directory(directory.parent)


@contextlib.contextmanager
def atomic_file(
    path: Path,
    *,
    durable: bool = True,
    temporary: Path | None = None,
    permissions: int = 0o666,
) -> Iterator[BinaryIO]:
    """A new file, opened for writing, that takes ``path``'s place (``os.replace``) when the
    block ends, and is deleted if the block raises: a reader sees the old file or the whole new
    one, never a part of it. The directory must exist.

    Parameters
    ----------
    durable
        fsync the file before the rename and the directory after it, so that the new file has
        survived a power cut once the block has ended.
    temporary
        Where the file is written first: beside ``path`` (a rename does not cross file systems).
        By default a hidden name of its own, ``.<name>.<random>.partial``.
    permissions
        Of the new file, before the umask (``0o600``: for its owner only).
    """
    if temporary is None:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, permissions)
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if durable:
        # The rename is only durable once the directory entry is.
        fsync_directory(path.parent)


@contextlib.contextmanager
def atomic_text_file(
    path: Path,
    *,
    newline: str | None = None,
    durable: bool = True,
    temporary: Path | None = None,
    permissions: int = 0o666,
) -> Iterator[TextIO]:
    """:func:`atomic_file` for text (UTF-8; ``newline`` as :func:`open` takes it)."""
    with atomic_file(path, durable=durable, temporary=temporary, permissions=permissions) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline=newline)
        try:
            yield text
        finally:
            # Hands the text written back to the binary file, which atomic_file closes.
            text.detach()


def write_atomically(
    path: Path,
    data: bytes,
    *,
    durable: bool = True,
    temporary: Path | None = None,
    permissions: int = 0o666,
) -> None:
    """Replace ``path`` with a file holding ``data``, through :func:`atomic_file`."""
    with atomic_file(path, durable=durable, temporary=temporary, permissions=permissions) as handle:
        handle.write(data)
