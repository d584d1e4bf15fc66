"""Local mode's lake: the ELT's ports over ``.gs/lake`` (the composition root of local mode).

* storage: :class:`~glucosestream.lake.directory.LocalLakeStorage` over ``settings.lake_dir``;
* query engine: :class:`LocalQueryEngine`, DuckDB running the Athena statements through
  :class:`~glucosestream.local.athena.LocalAthena` (``s3://<lake bucket>/`` locations are the
  lake directory, as the bucket's key layout is the directory's);
* catalog: :class:`DirectoryCatalog`, a partition directory swap (renames: a reader sees the
  old or the new partition). Why a swap rather than a catalog file read by the local engine:
  the local lake keeps the plain Hive layout every local reader (DuckDB globs, the dashboard,
  the tests) already reads, and a rename is as atomic per partition as a Glue partition update;
* grid metrics: :class:`~glucosestream.local.grid.InProcessGridMetrics` (the grid-metrics
  Lambda's batches in-process, for :func:`~glucosestream.elt.refresh.run_elt`; a pipeline run
  computes
  them in its Distributed Map).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glucosestream.elt.grid_stage import GRID_WORK_PREFIX
from glucosestream.elt.ports import Lake
from glucosestream.elt.tables import GRID_TABLES, TABLES, table_prefix
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone.schema import RAW_TABLES, delivery_of
from glucosestream.local.athena import LocalAthena, SqlError
from glucosestream.settings import Settings
from glucosestream.warehouse.query_engine import Parameter, QueryFailed, QueryResult
from glucosestream.warehouse.sql_text import athena_literal

LEFTOVER_AGE_S = 3600
"""Staging/trash directories older than this belong to a run that died: another run may still
be using a younger one."""


def table_location(settings: Settings, table: str) -> Path:
    """Where a lake table lives locally: the key layout of the lake bucket."""
    return settings.lake_dir / table_prefix(settings.names, table)


def lake_path(settings: Settings, uri: str) -> Path:
    """The local directory of an ``s3://<lake bucket>/<key>`` location (same key layout)."""
    prefix = f"s3://{settings.names.lake_bucket}/"
    if not uri.startswith(prefix) or ".." in uri.split("/"):
        raise SqlError(f"{uri!r} is not a location in the lake bucket {prefix}")
    return settings.lake_dir / uri[len(prefix) :]


def lake_engine(settings: Settings) -> LocalAthena:
    """A local Athena with every lake table of ``sql/ddl/`` bound to its local location."""
    engine = LocalAthena(settings.names.glue_database, memory_limit=settings.local_engine_memory)
    for raw_table in RAW_TABLES:
        prefix = delivery_of(settings.names, raw_table).raw_prefix
        engine.define_table(f"ddl/{raw_table.table}.sql", settings.lake_dir / prefix)
    for table in (*TABLES, *GRID_TABLES):
        engine.define_table(f"ddl/{table}.sql", table_location(settings, table))
    return engine


def start_query(
    settings: Settings,
    query_string: str,
    parameters: Sequence[str] = (),
    engine: LocalAthena | None = None,
) -> dict[str, Any]:
    """One Athena query execution on the local lake, as ``athena:startQueryExecution.sync`` runs
    it (``parameters``: Athena's ExecutionParameters, literal text); Athena's GetQueryExecution
    response."""
    return (engine or lake_engine(settings)).start_query_execution(
        query_string, parameters, location_of=lambda uri: lake_path(settings, uri)
    )


class LocalQueryEngine:
    """The query-engine port on DuckDB: each statement through
    :meth:`LocalAthena.start_query_execution`, the parameters as Athena literals."""

    def __init__(self, settings: Settings, athena: LocalAthena | None = None) -> None:
        self.settings = settings
        self.athena = athena or lake_engine(settings)

    @property
    def database(self) -> str:
        return self.athena.database

    def execute(self, sql: str, parameters: Sequence[Parameter] = ()) -> QueryResult:
        literals = [athena_literal(value) for value in parameters]
        try:
            response = start_query(self.settings, sql, literals, self.athena)
        except SqlError as error:
            raise QueryFailed(f"local-{uuid.uuid4()}", "FAILED", str(error)) from None
        query_id = response["QueryExecution"]["QueryExecutionId"]
        rows = self.athena.results.pop(query_id, None)
        return QueryResult(query_id, rows.to_pydict() if rows is not None else {})


class DirectoryCatalog:
    """The table-catalog port on directories: a rebuild stages into a hidden directory beside
    the table (``.staging-<run>-<chunk>/``, the same for every attempt: the caller empties it
    first), and publishing renames its partition directories over the table's (see
    :meth:`LocalAthena.swap_in`), then removes the staging directory."""

    def __init__(self, settings: Settings, athena: LocalAthena) -> None:
        self.settings = settings
        self.athena = athena

    def staging_prefix(self, table: str, run_id: str, chunk: int) -> str:
        prefix = table_prefix(self.settings.names, table)
        return f"s3://{self.settings.names.lake_bucket}/{prefix}.staging-{run_id}-{chunk:03d}/"

    def publish(self, table: str, staged: str, partitions: Sequence[tuple[str, ...]]) -> None:
        directory = lake_path(self.settings, staged)
        self.athena.swap_in(table, directory, replace=partitions)
        shutil.rmtree(directory, ignore_errors=True)

    def partition_locations(
        self, table: str, partitions: Sequence[tuple[str, ...]]
    ) -> dict[tuple[str, ...], str]:
        lake = self.athena.lake_tables[table]
        found = {}
        for values in partitions:
            directory = lake.partition_directory(values)
            if any(directory.glob("*.parquet")):
                relative = directory.relative_to(self.settings.lake_dir).as_posix()
                found[tuple(values)] = f"s3://{self.settings.names.lake_bucket}/{relative}/"
        return found

    def vacuum(self, table: str) -> list[str]:
        """The staging and trash directories of dead runs beside the table (see
        :func:`remove_leftovers`); a swap leaves no superseded version behind."""
        bucket = f"s3://{self.settings.names.lake_bucket}/"
        return [
            bucket + path.relative_to(self.settings.lake_dir).as_posix() + "/"
            for path in remove_leftovers(self.settings, tables=(table,), grid_work=False)
        ]


def remove_leftovers(
    settings: Settings,
    now: float | None = None,
    tables: Sequence[str] = TABLES,
    *,
    grid_work: bool = True,
) -> list[Path]:
    """Delete the ``.staging-*``/``.trash-*`` directories a killed run left beside the tables,
    and (``grid_work``) the grid metrics' work directories of runs that died.

    Safe: a run that died mid-swap never saved its manifest, so the next run rebuilds every
    partition it was writing.
    """
    now = time.time() if now is None else now
    candidates: list[Path] = []
    for table in tables:
        location = table_location(settings, table)
        if location.is_dir():
            candidates += [*location.glob(".staging-*"), *location.glob(".trash-*")]
    # The grid metrics' work of a run that died before its period marts: its staged chunks and
    # outputs, and the staging-table partitions it published.
    if grid_work:
        work = settings.lake_dir / GRID_WORK_PREFIX
        candidates += sorted(work.iterdir()) if work.is_dir() else []
        for table in GRID_TABLES:
            location = table_location(settings, table)
            candidates += sorted(location.iterdir()) if location.is_dir() else []
    removed = []
    for leftover in candidates:
        if leftover.is_dir() and now - leftover.stat().st_mtime > LEFTOVER_AGE_S:
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
    return removed


LOCAL_CURATE_PARTITIONS = 5
"""``dt`` partitions a local curate statement rebuilds (Athena takes up to 100 in one). DuckDB
sorts a statement's rows for the dedupe window in one process; at 10,000 patients a day is
~2.2M readings, and 90 days in one statement spilled the sort past the engine's memory limit.
Measured on a 2,000-patient x 90-day lake (bench/scale.py; 2 cores): 90 a statement 63 s
(6.3 GiB), 10 a statement 40 s (1.8 GiB), 3 46 s, 1 71 s (each statement's fixed cost)."""


def local_lake(settings: Settings) -> Lake:
    """The ports of local mode over ``settings.lake_dir`` (leftovers of dead runs removed)."""
    from glucosestream.local.grid import InProcessGridMetrics

    remove_leftovers(settings)
    athena = lake_engine(settings)
    return Lake(
        names=settings.names,
        storage=LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket),
        engine=LocalQueryEngine(settings, athena),
        catalog=DirectoryCatalog(settings, athena),
        grid=InProcessGridMetrics(),
        curate_partitions_per_query=LOCAL_CURATE_PARTITIONS,
    )
