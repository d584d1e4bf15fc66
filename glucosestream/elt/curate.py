"""Curated readings: each changed ``dt`` partition rebuilt from ALL its raw files, as Athena runs
it.

``sql/staging/readings.sql`` → ``sql/curated/readings.sql`` (dedupe on (patient_id, device_id,
measured_at) keeping the earliest produced copy; a duplicate always shares its original's
``dt``), composed into one Athena ``UNLOAD`` per chunk of at most
:data:`~glucosestream.elt.publish.MAX_PARTITIONS_PER_WRITE` partitions (:func:`curate_statement`;
the state machine runs these as Athena ``startQueryExecution.sync`` tasks) into a staging prefix
beside the table; the new partitions are published through the catalog only after every
statement succeeded (:func:`publish_curated`), so a failing query leaves the old partitions in
place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from glucosestream.elt.plan import EltPlan, EltReport
from glucosestream.elt.ports import Lake
from glucosestream.elt.publish import MAX_PARTITIONS_PER_WRITE, chunks, marks, staging_location
from glucosestream.elt.tables import CURATED
from glucosestream.warehouse.sql_text import (
    SqlError,
    Statement,
    athena_literal,
    bind,
    compose,
    table_columns,
    unload,
)

CURATE_SQL = ("staging/readings.sql", "curated/readings.sql")
"""The files of the curated rebuild, composed into one Athena statement per chunk."""


def curate_query(database: str, partitions: Sequence[str]) -> Statement:
    """``sql/curated/readings.sql`` over ``sql/staging/readings.sql`` (as its
    ``staging_readings``) for these ``dt`` partitions, the curated table's columns in order."""
    staging = bind(CURATE_SQL[0], {"database": database}, {"partitions": partitions})
    curated = bind(CURATE_SQL[1], {"database": database})
    return compose(curated, [("staging_readings", staging)], database, table_columns(CURATED).names)


def curate_statement(database: str, partition_count: int, location: str) -> str:
    """One Athena ``UNLOAD`` rebuilding ``partition_count`` curated ``dt`` partitions (their
    values are the statement's ExecutionParameters, in order) into ``location``.

    UNLOAD rather than INSERT INTO because the rebuild replaces partitions: the new files are
    written beside the table and published afterwards (:func:`publish_curated`), so readers never
    see a half-rebuilt partition and a failed statement changes nothing.
    """
    if not 1 <= partition_count <= MAX_PARTITIONS_PER_WRITE:
        raise SqlError(f"1..{MAX_PARTITIONS_PER_WRITE} partitions per statement")
    query = curate_query(database, ["?"] * partition_count)
    return unload(query, location, ("dt",)).sql


def curate_queries(lake: Lake, plan: EltPlan) -> list[dict[str, Any]]:
    """The curated rebuild of a plan as Athena query executions, one per chunk of at most
    :data:`MAX_PARTITIONS_PER_WRITE` partitions (the state machine's Map items); the
    ExecutionParameters are Athena's literal text (quoted strings)."""
    queries = []
    for index, chunk in enumerate(chunks(plan.partitions)):
        location = staging_location(lake, CURATED, plan.run_id, index)
        queries.append(
            {
                "partitions": chunk,
                "location": location,
                "QueryString": curate_statement(lake.database, len(chunk), location),
                "ExecutionParameters": [athena_literal(dt) for dt in chunk],
            }
        )
    return queries


def curate(lake: Lake, plan: EltPlan, report: EltReport) -> list[date]:
    """Rebuild the plan's curated partitions; returns the local days their readings fall on.

    The two halves the state machine runs as separate states: each statement of
    :func:`curate_queries`, then :func:`publish_curated`.
    """
    queries = curate_queries(lake, plan)
    for query in queries:
        lake.engine.execute(query["QueryString"], query["partitions"])
    return publish_curated(lake, plan, queries, report)


def publish_curated(
    lake: Lake, plan: EltPlan, queries: Sequence[dict[str, Any]], report: EltReport
) -> list[date]:
    """Publish each unloaded chunk's partitions (partitions of the chunk that received no row are
    dropped), then count; returns the local days of the readings. Safe to repeat after a crash
    part-way: the catalog recognises a partition already published."""
    for query in queries:
        lake.catalog.publish(CURATED, str(query["location"]), [(dt,) for dt in query["partitions"]])
    local_days: set[date] = set()
    for chunk in chunks(plan.partitions):
        counted = lake.engine.execute(
            "SELECT count(*) AS curated_rows, coalesce(sum(copies), 0) AS raw_rows "  # noqa: S608
            f"FROM {lake.database}.{CURATED} WHERE dt IN ({marks(chunk)})",
            chunk,
        ).columns
        report.curated_rows += int(counted["curated_rows"][0])
        report.raw_rows += int(counted["raw_rows"][0])
        days = lake.engine.execute(
            "SELECT DISTINCT CAST(local_time AS DATE) AS local_day "  # noqa: S608
            f"FROM {lake.database}.{CURATED} WHERE dt IN ({marks(chunk)}) AND counts_in_metrics",
            chunk,
        ).columns
        local_days.update(_as_date(day) for day in days.get("local_day", []))
    report.curated_partitions = list(plan.partitions)
    return sorted(local_days)


def _as_date(value: Any) -> date:
    """A DATE result value: a ``date`` (DuckDB) or its ``YYYY-MM-DD`` text (Athena's results)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))
