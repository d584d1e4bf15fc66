"""Writing lake tables through the ports: an Athena ``UNLOAD`` into a staging prefix the catalog
names, then a publish that makes the new partitions the ones readers see (a failed statement
publishes nothing; docs/adr/0004-atomic-publish.md); counting and deleting what a run wrote."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from glucosestream.elt.ports import MAX_PARTITIONS_PER_WRITE, Lake
from glucosestream.warehouse.sql_text import SqlError, Statement, table_columns, unload

_RUN_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def chunks(items: Sequence[str], size: int = MAX_PARTITIONS_PER_WRITE) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def run_token(run_id: str) -> str:
    """A run id as part of a location (lower-case letters, digits, ``-`` and ``_``), or
    SqlError."""
    token = run_id.lower()
    if not _RUN_TOKEN.match(token):
        raise SqlError(f"{run_id!r} cannot be part of a location")
    return token


def staging_location(lake: Lake, table: str, run_id: str, chunk: int) -> str:
    """Where an attempt at chunk ``chunk`` of run ``run_id`` unloads partitions of ``table``: the
    prefix the catalog names (locally a hidden directory beside the table, renamed into place;
    with Glue a new version prefix per call, which a publish points the partitions at)."""
    return lake.catalog.staging_prefix(table, run_token(run_id), chunk)


def marks(values: Sequence[object], cast: str | None = None) -> str:
    """One ``?`` (or ``CAST(? AS <cast>)``) per value; ``NULL`` (matching nothing) for none."""
    mark = f"CAST(? AS {cast})" if cast else "?"
    return ", ".join(mark for _ in values) or "NULL"


def count_rows(lake: Lake, table: str, key: str, values: Sequence[str], cast: str | None) -> int:
    """Rows of the partitions of ``table`` whose ``key`` is one of ``values``."""
    result = lake.engine.execute(
        f"SELECT count(*) AS n FROM {lake.database}.{table} "  # noqa: S608 - identifiers only
        f"WHERE {key} IN ({marks(values, cast)})",
        list(values),
    )
    return int(result.columns["n"][0]) if result.columns.get("n") else 0


def unload_and_publish(
    lake: Lake,
    table: str,
    statement: Statement,
    root: str,
    partitions: Sequence[tuple[str]],
    *,
    one_partition: bool = False,
) -> None:
    """UNLOAD into the staging prefix ``root`` (emptied first: a retried step finds its earlier
    attempt's files there) and publish ``partitions`` from it. ``one_partition``: the statement
    lacks the partition column, and writes straight into that partition's prefix (Athena takes
    parameters only in WHERE clauses, so a partition value cannot be a selected parameter)."""
    lake.storage.delete([o.key for o in lake.storage.list(root[len(_bucket_uri(lake)) :])])
    key = table_columns(table).partitioned_by[0][0]
    if one_partition:
        (only,) = partitions
        unloaded = unload(statement, f"{root}{key}={only[0]}/")
    else:
        unloaded = unload(statement, root, (key,))
    lake.engine.execute(unloaded.sql, unloaded.parameters)
    lake.catalog.publish(table, root, partitions)


def _bucket_uri(lake: Lake) -> str:
    return f"s3://{lake.names.lake_bucket}/"


def delete_under(lake: Lake, prefix: str) -> None:
    """Delete every object of the lake under ``prefix``."""
    lake.storage.delete([item.key for item in lake.storage.list(prefix)])
