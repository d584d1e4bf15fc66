"""The incremental ELT: raw zone → curated readings → marts, through the lake's ports.

Everything goes through a :class:`Lake`: the lake storage (objects by key: S3 in aws mode, a
directory locally), the query engine (Athena in aws mode, DuckDB locally), the table catalog
(which files each partition is: Glue partitions in aws mode, directories locally) and the grid
metrics. The composition roots choose them (:func:`glucosestream.local.lake.local_lake`,
``consumers/pipeline/handler.py``); nothing here imports the local runtime, DuckDB or sqlglot.

One copy of every query: the Athena SQL in ``sql/``, run as complete Athena statements with the
run's values as ExecutionParameters (:mod:`glucosestream.sql_text` composes the files by text).

A run (:func:`run_elt`):

1. **Find what changed.** It lists ``raw/readings/dt=*/hour=*/*.parquet`` (names and sizes
   only; Firehose never rewrites a file) and compares the listing with the state of the last
   successful run, ``pipeline_state/elt.json`` (every raw file processed, per ``dt``). The
   ``dt`` partitions with a new (or changed, or vanished) file are the ones to rebuild;
   ``full_refresh`` rebuilds all. Listing is the only step that looks at all of history and it
   reads no data.
2. **Curated.** Each changed ``dt`` of ``curated/readings/`` is rebuilt from ALL raw files of that
   ``dt`` (``sql/staging/readings.sql`` → ``sql/curated/readings.sql``: dedupe on (patient_id,
   device_id, measured_at) keeping the earliest produced copy; a duplicate always shares its
   original's ``dt``), at most :data:`MAX_PARTITIONS_PER_WRITE` partitions per statement (Athena's
   limit per UNLOAD/CTAS). Partitions stay in UTC (DESIGN §5): a late reading lands in its
   event-time ``dt`` and only that ``dt`` is rebuilt. The two files are composed into one Athena
   ``UNLOAD`` per chunk (:func:`curate_statement`; the state machine runs these as Athena
   ``startQueryExecution.sync`` tasks) into a staging prefix beside the table; the new partitions
   are published through the catalog only after every statement succeeded
   (:func:`publish_curated`), so a failing query leaves the old partitions in place.
3. **Daily marts.** ``patient_daily_metrics`` is recomputed for every LOCAL day that has a
   reading in a rebuilt ``dt`` (a local day spans the UTC dates day - 1 .. day + 1, so those
   curated partitions are read), all patients of that day: one UNLOAD per chunk of days of
   ``sql/marts/patient_daily_metrics.sql`` over ``sql/curated/period_readings.sql``, published.
4. **Period marts.** For the 14 LOCAL days ending at the run date (``run_date``; by default the
   newest raw ``dt``), ``patient_period_metrics`` (the SQL of ``sql/marts/`` plus the grid
   metrics, as ``glucosestream metrics`` computes them), ``agp_profile`` and ``glycemic_episodes``
   (as ``glucosestream episodes``) are recomputed for every patient with readings in the window
   and their ``period_end=<run date>`` partitions replaced. They are skipped when no rebuilt day
   falls in the window and the partition has rows.
5. **State.** Only then is the new raw listing saved: a run that fails anywhere is simply
   repeated by the next one, and repeating a run gives the same partitions.

The cost of an incremental run grows with the new data (the rebuilt ``dt`` partitions, their
local days, and the fixed 14-day window), not with the length of history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from glucosestream.ports.lake_storage import LakeStorage
from glucosestream.ports.query_engine import QueryEngine
from glucosestream.ports.table_catalog import TableCatalog
from glucosestream.settings import ResourceNames
from glucosestream.sql_text import (
    SqlError,
    Statement,
    athena_literal,
    bind,
    compose,
    table_columns,
    unload,
)

MAX_PARTITIONS_PER_WRITE = 100
"""Athena writes at most 100 partitions per UNLOAD / INSERT INTO / CTAS."""
PERIOD_DAYS = 14
"""The AGP window: 14 local days ending at the run date."""
STATE_KEY = "pipeline_state/elt.json"
"""The raw files the last successful run processed (a key of the lake)."""
STATE_VERSION = 1

CURATED = "curated_readings"
DAILY = "patient_daily_metrics"
PERIOD = "patient_period_metrics"
AGP = "agp_profile"
EPISODES = "glycemic_episodes"
TABLES = (CURATED, DAILY, PERIOD, AGP, EPISODES)

RawListing = dict[str, dict[str, int]]
"""dt → {key relative to raw/readings/ → size in bytes}."""


class GridMetrics(Protocol):
    """The period marts that need the interpolated grid (CONGA, MODD, MAG, MAGE, active %,
    episodes): locally numpy in-process, on AWS a Lambda per chunk of patients."""

    def build_period_marts(
        self, lake: Lake, readings: Statement, sql_metrics: Statement, start: date, end: date
    ) -> tuple[int, int]:
        """Publish the ``period_end=end`` partitions of ``patient_period_metrics`` (the rows of
        ``sql_metrics`` with each patient's grid metrics) and ``glycemic_episodes`` (from the
        readings ``readings`` selects); returns (period rows, episode rows)."""
        ...


@dataclass(frozen=True)
class Lake:
    """The ports one run works through, chosen by a composition root."""

    names: ResourceNames
    storage: LakeStorage
    engine: QueryEngine
    catalog: TableCatalog
    grid: GridMetrics

    @property
    def database(self) -> str:
        return self.engine.database


@dataclass
class EltReport:
    """What one run did: partitions touched and rows written per step."""

    run_date: date | None
    raw_files_new: int = 0
    curated_partitions: list[str] = field(default_factory=list)
    """The ``dt`` partitions of curated readings rebuilt."""
    raw_rows: int = 0
    """Raw rows (duplicates included) of the rebuilt partitions."""
    curated_rows: int = 0
    """Rows now in the rebuilt partitions."""
    daily_days: list[str] = field(default_factory=list)
    """The ``local_day`` partitions of patient_daily_metrics replaced."""
    daily_rows: int = 0
    period_end: str | None = None
    """The ``period_end`` partition of the period marts replaced (None: not recomputed)."""
    period_rows: int = 0
    agp_rows: int = 0
    episode_rows: int = 0

    @property
    def touched_anything(self) -> bool:
        return bool(self.curated_partitions or self.daily_days or self.period_end)

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["run_date"] = self.run_date.isoformat() if self.run_date else None
        return values


# -------------------------------------------------------------------------------- lake keys


def table_prefix(names: ResourceNames, table: str) -> str:
    """The key prefix of a lake table (the bucket's layout: curated/readings/, marts/<table>/)."""
    if table == CURATED:
        return f"{names.curated_prefix}readings/"
    return f"{names.marts_prefix}{table}/"


def _hidden(part: str) -> bool:
    """Athena skips keys with a component starting with ``.`` or ``_`` (temporaries, staging)."""
    return part.startswith((".", "_"))


def list_raw(storage: LakeStorage, prefix: str) -> RawListing:
    """Every visible raw Parquet file per ``dt`` (hidden temporaries are not data yet)."""
    listing: RawListing = {}
    for item in storage.list(prefix):
        parts = item.key[len(prefix) :].split("/")
        if (
            len(parts) != 3
            or not parts[0].startswith("dt=")
            or not parts[1].startswith("hour=")
            or not parts[2].endswith(".parquet")
            or any(_hidden(part) for part in parts)
        ):
            continue
        listing.setdefault(parts[0][len("dt=") :], {})["/".join(parts)] = item.size
    return listing


def load_state(storage: LakeStorage) -> RawListing:
    try:
        document = json.loads(storage.read_bytes(STATE_KEY))
    except FileNotFoundError:
        return {}
    if document.get("version") != STATE_VERSION:
        return {}
    raw: RawListing = document["raw"]
    return raw


def save_state(storage: LakeStorage, listing: RawListing) -> None:
    document = {"version": STATE_VERSION, "raw": listing}
    storage.write_bytes(STATE_KEY, json.dumps(document, sort_keys=True).encode())


def changed_partitions(listing: RawListing, processed: RawListing) -> list[str]:
    """``dt`` partitions whose raw files differ from those processed (new, grown or gone)."""
    return sorted(
        dt for dt in listing.keys() | processed.keys() if listing.get(dt) != processed.get(dt)
    )


def chunks(items: Sequence[str], size: int = MAX_PARTITIONS_PER_WRITE) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _as_date(value: Any) -> date:
    """A DATE result value: a ``date`` (DuckDB) or its ``YYYY-MM-DD`` text (Athena's results)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _marks(values: Sequence[Any], cast: str | None = None) -> str:
    mark = f"CAST(? AS {cast})" if cast else "?"
    return ", ".join(mark for _ in values) or "NULL"


def _count(lake: Lake, table: str, key: str, values: Sequence[str], cast: str | None) -> int:
    """Rows of the partitions of ``table`` whose ``key`` is one of ``values``."""
    result = lake.engine.execute(
        f"SELECT count(*) AS n FROM {lake.database}.{table} "  # noqa: S608 - identifiers only
        f"WHERE {key} IN ({_marks(values, cast)})",
        list(values),
    )
    return int(result.columns["n"][0]) if result.columns.get("n") else 0


# ------------------------------------------------------------------------------------ the plan


@dataclass
class EltPlan:
    """What one run will do, decided at its start; JSON-serialisable so that each step of the
    Step Functions pipeline can be a separate invocation."""

    run_id: str
    run_date: date | None
    partitions: list[str]
    """The raw ``dt`` partitions that changed since the last committed run."""
    full_refresh: bool = False
    raw_files_new: int = 0

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["run_date"] = self.run_date.isoformat() if self.run_date else None
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EltPlan:
        run_date = values.get("run_date")
        return cls(
            run_id=str(values["run_id"]),
            run_date=date.fromisoformat(run_date) if run_date else None,
            partitions=[str(p) for p in values["partitions"]],
            full_refresh=bool(values.get("full_refresh", False)),
            raw_files_new=int(values.get("raw_files_new", 0)),
        )


_RUN_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _snapshot_key(run_id: str) -> str:
    return f"pipeline_state/runs/{_token(run_id)}.json"


def _token(run_id: str) -> str:
    token = run_id.lower()
    if not _RUN_TOKEN.match(token):
        raise SqlError(f"{run_id!r} cannot be part of a location")
    return token


def plan_run(
    lake: Lake,
    run_date: date | None = None,
    *,
    full_refresh: bool = False,
    run_id: str | None = None,
) -> EltPlan:
    """Find the changed partitions; snapshot the raw listing the run will commit as processed.

    Files that land after the snapshot are not in it, so the next run sees them as new even if
    this run's rebuild already read them (rebuilding a partition twice is idempotent).
    """
    listing = list_raw(lake.storage, lake.names.raw_readings_prefix)
    processed = {} if full_refresh else load_state(lake.storage)
    changed = changed_partitions(listing, processed)
    if run_date is None and listing:
        run_date = date.fromisoformat(max(listing))
    plan = EltPlan(
        run_id=run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"),
        run_date=run_date,
        partitions=changed,
        full_refresh=full_refresh,
        raw_files_new=sum(
            1 for dt in changed for name in listing.get(dt, {}) if name not in processed.get(dt, {})
        ),
    )
    snapshot = json.dumps(listing, sort_keys=True).encode()
    lake.storage.write_bytes(_snapshot_key(plan.run_id), snapshot)
    return plan


# ------------------------------------------------------------------ curated, as Athena runs it

CURATE_SQL = ("staging/readings.sql", "curated/readings.sql")
"""The files of the curated rebuild, composed into one Athena statement per chunk."""
MARTS_SQL = (
    "curated/period_readings.sql",
    "marts/patient_daily_metrics.sql",
    "marts/patient_period_metrics.sql",
    "marts/agp_profile.sql",
)
"""The files :func:`build_marts` runs."""


def staging_location(lake: Lake, table: str, run_id: str, chunk: int) -> str:
    """Where an attempt at chunk ``chunk`` of run ``run_id`` unloads partitions of ``table``: the
    prefix the catalog names (locally a hidden directory beside the table, renamed into place;
    with Glue a new version prefix per call, which a publish points the partitions at)."""
    return lake.catalog.staging_prefix(table, _token(run_id), chunk)


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
            f"FROM {lake.database}.{CURATED} WHERE dt IN ({_marks(chunk)})",
            chunk,
        ).columns
        report.curated_rows += int(counted["curated_rows"][0])
        report.raw_rows += int(counted["raw_rows"][0])
        days = lake.engine.execute(
            "SELECT DISTINCT CAST(local_time AS DATE) AS local_day "  # noqa: S608
            f"FROM {lake.database}.{CURATED} WHERE dt IN ({_marks(chunk)}) AND counts_in_metrics",
            chunk,
        ).columns
        local_days.update(_as_date(day) for day in days.get("local_day", []))
    report.curated_partitions = list(plan.partitions)
    return sorted(local_days)


# ------------------------------------------------------------------------------------- marts


def period_readings_query(database: str, days: Sequence[date]) -> Statement:
    """``sql/curated/period_readings.sql``: the metric readings of these LOCAL days (the curated
    partitions day - 1 .. day + 1 read)."""
    dts = sorted(
        {(day + timedelta(days=shift)).isoformat() for day in days for shift in (-1, 0, 1)}
    )
    return bind(
        MARTS_SQL[0], {"database": database}, {"partitions": dts, "local_days": sorted(days)}
    )


def mart_query(
    database: str, mart: str, readings: Statement, columns: Sequence[str] | None = None
) -> Statement:
    """A ``sql/marts/`` file over ``readings`` as its ``period_readings``."""
    return compose(
        bind(mart, {"database": database}), [("period_readings", readings)], database, columns
    )


def _unload_and_publish(
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


def _daily(lake: Lake, plan: EltPlan, days: list[date], report: EltReport) -> None:
    isos = [day.isoformat() for day in days]
    for index, chunk in enumerate(chunks(isos)):
        readings = period_readings_query(lake.database, [date.fromisoformat(d) for d in chunk])
        query = mart_query(lake.database, MARTS_SQL[1], readings, table_columns(DAILY).names)
        location = staging_location(lake, DAILY, plan.run_id, index)
        _unload_and_publish(lake, DAILY, query, location, [(day,) for day in chunk])
        report.daily_rows += _count(lake, DAILY, "local_day", chunk, "DATE")
    report.daily_days = isos


def _period(lake: Lake, plan: EltPlan, end: date, report: EltReport) -> None:
    start = end - timedelta(days=PERIOD_DAYS - 1)
    readings = period_readings_query(lake.database, _days(start, end))
    sql_metrics = mart_query(lake.database, MARTS_SQL[2], readings)
    report.period_rows, report.episode_rows = lake.grid.build_period_marts(
        lake, readings, sql_metrics, start, end
    )
    columns = [name for name, _ in table_columns(AGP).columns]
    agp = mart_query(lake.database, MARTS_SQL[3], readings, columns)
    location = staging_location(lake, AGP, plan.run_id, 0)
    _unload_and_publish(lake, AGP, agp, location, [(end.isoformat(),)], one_partition=True)
    report.period_end = end.isoformat()
    report.agp_rows = _count(lake, AGP, "period_end", [end.isoformat()], "DATE")


def build_marts(lake: Lake, plan: EltPlan, local_days: Sequence[date], report: EltReport) -> None:
    """The daily marts of ``local_days`` and the period marts ending at the run date."""
    days = sorted(local_days)
    if days:
        _daily(lake, plan, days, report)
    if plan.run_date is not None:
        window = set(_days(plan.run_date - timedelta(days=PERIOD_DAYS - 1), plan.run_date))
        missing = _count(lake, PERIOD, "period_end", [plan.run_date.isoformat()], "DATE") == 0
        if window.intersection(days) or missing or plan.full_refresh:
            _period(lake, plan, plan.run_date, report)


def commit(lake: Lake, plan: EltPlan) -> None:
    """Record the plan's raw files as processed (last: a run that fails before is repeated)."""
    key = _snapshot_key(plan.run_id)
    listing: RawListing = json.loads(lake.storage.read_bytes(key))
    save_state(lake.storage, listing)
    lake.storage.delete([key])


def run_elt(lake: Lake, run_date: date | None = None, *, full_refresh: bool = False) -> EltReport:
    """One incremental ELT run (see the module docstring): plan, curate, marts, commit — the
    steps the pipeline runs one by one with the data-quality gate between curate and marts.

    Parameters
    ----------
    lake
        The ports (a composition root builds them: :func:`glucosestream.local.lake.local_lake`).
    run_date
        The last LOCAL day of the 14-day period marts; by default the newest raw ``dt``.
    full_refresh
        Rebuild every raw ``dt`` (and every local day), ignoring the saved state.
    """
    plan = plan_run(lake, run_date, full_refresh=full_refresh)
    report = EltReport(run_date=plan.run_date, raw_files_new=plan.raw_files_new)
    local_days = curate(lake, plan, report)
    build_marts(lake, plan, local_days, report)
    commit(lake, plan)
    return report
