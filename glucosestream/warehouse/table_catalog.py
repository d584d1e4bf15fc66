"""The table catalog port: which files each partition of a lake table is.

Implementations: :class:`glucosestream.adapters.glue_catalog.GlueTableCatalog` (aws mode: Glue
partitions pointing at versioned prefixes, docs/adr/0004-atomic-publish.md) and
:class:`glucosestream.local.lake.DirectoryCatalog` (local mode: a directory swap). A rebuild
writes new partitions under a prefix the catalog names (:meth:`TableCatalog.staging_prefix`,
with an Athena ``UNLOAD … partitioned_by``) and then publishes them: a reader sees each
partition's old or new version, never a mix, and a failed rebuild publishes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

PartitionValues = tuple[str, ...]
"""A partition's values, in the order of the table's partition keys."""


class TableCatalog(Protocol):
    def staging_prefix(self, table: str, run_id: str, chunk: int) -> str:
        """Where one attempt at chunk ``chunk`` of run ``run_id`` (a location-safe token:
        lower-case letters, digits, ``-`` and ``_``) writes partitions of ``table``: an
        ``s3://`` prefix ending in ``/``. It may hold files of an earlier attempt at the same
        chunk (the caller empties it), but never files a reader is reading."""
        ...

    def publish(self, table: str, staged: str, partitions: Sequence[PartitionValues]) -> None:
        """Make each of ``partitions`` (values in key order) the version written under
        ``staged`` (a :meth:`staging_prefix`, in Hive layout, ``<staged>k=v/…``), and also any
        other partition found there; a partition with no object there is dropped. Atomic per
        partition; repeating a publish is harmless."""
        ...

    def partition_locations(
        self, table: str, partitions: Sequence[PartitionValues]
    ) -> dict[PartitionValues, str]:
        """The ``s3://`` prefix (ending in ``/``) each of ``partitions`` is read from now;
        partitions the table does not have are left out."""
        ...

    def vacuum(self, table: str) -> list[str]:
        """Delete the staged files no reader can need any more (superseded or abandoned
        versions past a retention); never a partition's current files. Returns the prefixes
        deleted."""
        ...
