"""The table catalog port: which files each partition of a lake table is.

Implementations: :class:`glucosestream.adapters.glue_catalog.GlueTableCatalog` (aws mode: Glue
partitions pointing at versioned prefixes) and the local one in ``glucosestream.local`` (a
directory swap). A rebuild writes new partitions under a prefix of its own (an Athena
``UNLOAD … partitioned_by``) and then publishes them: a reader sees each partition's old or new
version, never a mix, and a failed rebuild publishes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class TableCatalog(Protocol):
    def publish(self, table: str, staged: str, partitions: Sequence[tuple[str, ...]]) -> None:
        """Make each of ``partitions`` (values in key order) the version written under
        ``staged`` (an ``s3://`` prefix in Hive layout, ``<staged>k=v/…``); a partition with no
        object there is dropped. Atomic per partition; repeating a publish is harmless."""
        ...
