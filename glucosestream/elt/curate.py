"""Curated readings: each changed ``dt`` partition rebuilt from ALL its raw files, as Athena runs
it; curated treatments: every partition rebuilt when any raw treatment file changed.

``sql/staging/readings.sql`` → ``sql/curated/readings.sql`` (dedupe on (patient_id, device_id,
measured_at) keeping the earliest produced copy; a duplicate always shares its original's
``dt``), composed into one Athena ``UNLOAD`` per chunk of at most
:data:`~glucosestream.elt.ports.MAX_PARTITIONS_PER_WRITE` partitions (:func:`curate_statement`;
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
from glucosestream.elt.ports import MAX_PARTITIONS_PER_WRITE, Lake
from glucosestream.elt.publish import chunks, marks, staging_location
from glucosestream.elt.tables import CURATED, CURATED_TREATMENTS
from glucosestream.warehouse.sql_text import (
    SqlError,
    Statement,
    athena_literal,
    bind,
    compose,
    table_columns,
    unload,
)

CURATE_READINGS_SQL = ("staging/readings.sql", "curated/readings.sql")
CURATE_TREATMENTS_SQL = ("curated/treatments.sql",)
CURATE_SQL = (*CURATE_READINGS_SQL, *CURATE_TREATMENTS_SQL)
"""The files of the curated rebuild, composed into one Athena statement per chunk."""


def curate_query(database: str, partitions: Sequence[str]) -> Statement:
    """``sql/curated/readings.sql`` over ``sql/staging/readings.sql`` (as its
    ``staging_readings``) for these ``dt`` partitions, the curated table's columns in order."""
    staging = bind(CURATE_READINGS_SQL[0], {"database": database}, {"partitions": partitions})
    curated = bind(CURATE_READINGS_SQL[1], {"database": database})
    return compose(curated, [("staging_readings", staging)], database, table_columns(CURATED).names)


def curate_treatments_query(database: str, partitions: Sequence[str]) -> Statement:
    """``sql/curated/treatments.sql`` for these ``dt`` partitions, the curated table's columns in
    order (it reads all of raw_treatments: see the file)."""
    curated = bind(CURATE_TREATMENTS_SQL[0], {"database": database}, {"partitions": partitions})
    return compose(curated, [], database, table_columns(CURATED_TREATMENTS).names)


def curate_statement(
    database: str, partition_count: int, location: str, table: str = CURATED
) -> str:
    """One Athena ``UNLOAD`` rebuilding ``partition_count`` curated ``dt`` partitions (their
    values are the statement's ExecutionParameters, in order) into ``location``.

    UNLOAD rather than INSERT INTO because the rebuild replaces partitions: the new files are
    written beside the table and published afterwards (:func:`publish_curated`), so readers never
    see a half-rebuilt partition and a failed statement changes nothing.
    """
    return curate_unload(database, ["?"] * partition_count, location, table).sql


def curate_unload(
    database: str, partitions: Sequence[str], location: str, table: str = CURATED
) -> Statement:
    """The ``UNLOAD`` of :func:`curate_statement` with its parameters: the partitions, once per
    place the SQL names them, in text order."""
    if not 1 <= len(partitions) <= MAX_PARTITIONS_PER_WRITE:
        raise SqlError(f"1..{MAX_PARTITIONS_PER_WRITE} partitions per statement")
    build = curate_treatments_query if table == CURATED_TREATMENTS else curate_query
    return unload(build(database, partitions), location, ("dt",))


def curate_queries(lake: Lake, plan: EltPlan) -> list[dict[str, Any]]:
    """The curated rebuild of a plan as Athena query executions, one per chunk of at most
    ``lake.curate_partitions_per_query`` partitions (the state machine's Map items): the
    readings' changed partitions, then the treatments' (``table`` says which); the
    ExecutionParameters are Athena's literal text (quoted strings)."""
    queries = []
    per_query = lake.curate_partitions_per_query
    work = [(CURATED, chunk) for chunk in chunks(plan.partitions, per_query)] + [
        (CURATED_TREATMENTS, chunk) for chunk in chunks(plan.treatment_partitions, per_query)
    ]
    for index, (table, chunk) in enumerate(work):
        location = staging_location(lake, table, plan.run_id, index)
        statement = curate_unload(lake.database, chunk, location, table)
        queries.append(
            {
                "table": table,
                "partitions": chunk,
                "location": location,
                "QueryString": statement.sql,
                "ExecutionParameters": [athena_literal(p) for p in statement.parameters],
                "parameters": list(statement.parameters),
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
        lake.engine.execute(query["QueryString"], query["parameters"])
    return publish_curated(lake, plan, queries, report)


def publish_curated(
    lake: Lake, plan: EltPlan, queries: Sequence[dict[str, Any]], report: EltReport
) -> list[date]:
    """Publish each unloaded chunk's partitions (partitions of the chunk that received no row are
    dropped), then count; returns the local days of the readings. Safe to repeat after a crash
    part-way: the catalog recognises a partition already published."""
    for query in queries:
        table = str(query.get("table", CURATED))
        lake.catalog.publish(table, str(query["location"]), [(dt,) for dt in query["partitions"]])
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
        local_days.update(_erased_local_days(lake, chunk))
    report.curated_partitions = list(plan.partitions)
    for chunk in chunks(plan.treatment_partitions):
        counted = lake.engine.execute(
            "SELECT count(*) AS treatments "  # noqa: S608
            f"FROM {lake.database}.{CURATED_TREATMENTS} WHERE dt IN ({marks(chunk)})",
            chunk,
        ).columns
        report.treatment_rows += int(counted["treatments"][0])
    report.treatment_partitions = list(plan.treatment_partitions)
    return sorted(local_days)


def _erased_local_days(lake: Lake, chunk: Sequence[str]) -> set[date]:
    """The local days of the readings erased in these partitions: their marts are rebuilt too,
    so a day whose every reading was erased loses its metrics rather than keeping stale ones."""
    erasures = lake.engine.execute(
        f"SELECT count(*) AS n FROM {lake.database}.raw_erasures "  # noqa: S608
        f"WHERE dt IN ({marks(chunk)})",
        chunk,
    ).columns
    if not int(erasures["n"][0]):
        return set()
    days = lake.engine.execute(
        "SELECT DISTINCT CAST(date_add('minute', r.utc_offset_minutes, r.measured_at) AS DATE) "  # noqa: S608
        f"AS local_day FROM {lake.database}.raw_readings AS r "
        f"JOIN {lake.database}.raw_erasures AS e ON r.patient_id = e.patient_id "
        "AND r.device_id = e.device_id AND r.measured_at = e.measured_at "
        f"WHERE r.dt IN ({marks(chunk)}) AND e.dt IN ({marks(chunk)})",
        [*chunk, *chunk],
    ).columns
    return {_as_date(day) for day in days.get("local_day", [])}


def _as_date(value: Any) -> date:
    """A DATE result value: a ``date`` (DuckDB) or its ``YYYY-MM-DD`` text (Athena's results)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))
