"""The incremental ELT: raw zone → curated readings → marts, through the lake's ports.

Everything goes through a :class:`Lake`: the lake storage (objects by key: S3 in aws mode, a
directory locally), the query engine (Athena in aws mode, DuckDB locally), the table catalog
(which files each partition is: Glue partitions in aws mode, directories locally) and the grid
metrics. The composition roots choose them (:func:`glucosestream.local.lake.local_lake`,
``consumers/pipeline/handler.py``); nothing here imports the local runtime, DuckDB or sqlglot.

One copy of every query: the Athena SQL in ``sql/``, run as complete Athena statements with the
run's values as ExecutionParameters (:mod:`glucosestream.warehouse.sql_text` composes the files by
text).

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
   falls in the window and the partition has rows. ``agp_profile`` is SQL and built with the
   daily marts; the other two need the grid metrics, computed in three steps (the states the
   pipeline runs, ``docs/adr/0003-grid-metrics-on-aws.md``): :func:`stage_grid_input` unloads
   the window's readings partitioned by a hash bucket of the patient (``chunk=<n>/``, ~1,000
   patients a chunk); the grid metrics of each chunk are computed by
   :func:`glucosestream.elt.grid_batch.run_batch` (the grid-metrics Lambda under a Step Functions
   Distributed Map; :class:`GridMetrics` runs the same batches outside the state machine); and
   :func:`build_period_marts` joins the outputs with the SQL metrics in Athena and publishes.
5. **State.** Only then is the new raw listing saved: a run that fails anywhere is simply
   repeated by the next one, and repeating a run gives the same partitions.

The cost of an incremental run grows with the new data (the rebuilt ``dt`` partitions, their
local days, and the fixed 14-day window), not with the length of history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from glucosestream.lake.storage import LakeStorage
from glucosestream.settings import ResourceNames
from glucosestream.warehouse.query_engine import QueryEngine
from glucosestream.warehouse.sql_text import (
    SqlError,
    Statement,
    athena_literal,
    bind,
    compose,
    constants_cte,
    table_columns,
    unload,
)
from glucosestream.warehouse.table_catalog import TableCatalog

MAX_PARTITIONS_PER_WRITE = 100
"""Athena writes at most 100 partitions per UNLOAD / INSERT INTO / CTAS."""
PERIOD_DAYS = 14
"""The AGP window: 14 local days ending at the run date."""
STATE_KEY = "pipeline_state/elt.json"
"""The raw files the last successful run processed (a key of the lake)."""
STATE_VERSION = 1

PATIENTS_PER_CHUNK = 1000
"""Patients a grid-metrics chunk holds (on average): ~40 MB of Parquet, ~13 s of one Lambda
(docs/adr/0003-grid-metrics-on-aws.md)."""
GRID_WORK_PREFIX = "work/grid/"
"""Where the grid metrics of a run work: ``<prefix><run>/input/`` (the staged chunks) and
``<prefix><run>/output/`` (what the grid-metrics Lambda writes); Terraform's grid_work_prefix."""

CURATED = "curated_readings"
DAILY = "patient_daily_metrics"
PERIOD = "patient_period_metrics"
AGP = "agp_profile"
EPISODES = "glycemic_episodes"
TABLES = (CURATED, DAILY, PERIOD, AGP, EPISODES)
GRID_METRICS_STAGING = "grid_metrics_staging"
GRID_EPISODES_STAGING = "grid_episodes_staging"
GRID_TABLES = (GRID_METRICS_STAGING, GRID_EPISODES_STAGING)
"""Work tables: the grid-metrics Lambda's outputs of a run, as Athena reads them."""
GRID_INPUT_COLUMNS = ("patient_id", "device_id", "measured_at", "local_time", "glucose_mg_dl",
                      "chunk")  # fmt: skip
"""The columns of ``sql/grid/grid_input.sql``: the readings the grid metrics read, then the
chunk (the staging UNLOAD's partition column)."""

RawListing = dict[str, dict[str, int]]
"""dt → {key relative to raw/readings/ → size in bytes}."""


class GridMetrics(Protocol):
    """Runs the grid-metrics batches of staged chunks outside the state machine (which runs
    them as its Distributed Map): every batch is :func:`glucosestream.elt.grid_batch.run_batch`,
    in-process locally, the grid-metrics Lambda in aws mode."""

    def compute(self, storage: LakeStorage, grid: GridInput) -> None:
        """Write the outputs of every chunk staged under ``grid.input_prefix``, one batch per
        listed object, as the Distributed Map sends them (``grid.batch_input``)."""
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


@dataclass(frozen=True)
class GridInput:
    """The grid metrics of one run's period, as the state machine passes them (``$.grid``): the
    staged chunks (``input_prefix``), where each chunk's outputs go (the run's partitions of
    the staging tables) and the window."""

    run_id: str
    input_prefix: str
    metrics_prefix: str
    episodes_prefix: str
    period_start: date
    period_end: date
    chunks: int = 0
    patients: int = 0

    @property
    def batch_input(self) -> dict[str, str]:
        """The Distributed Map's ``ItemBatcher.BatchInput`` (:class:`grid_batch.GridBatch`)."""
        return {
            "metrics_prefix": self.metrics_prefix,
            "episodes_prefix": self.episodes_prefix,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
        }

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["period_start"] = self.period_start.isoformat()
        values["period_end"] = self.period_end.isoformat()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GridInput:
        return cls(
            run_id=str(values["run_id"]),
            input_prefix=str(values["input_prefix"]),
            metrics_prefix=str(values["metrics_prefix"]),
            episodes_prefix=str(values["episodes_prefix"]),
            period_start=date.fromisoformat(str(values["period_start"])),
            period_end=date.fromisoformat(str(values["period_end"])),
            chunks=int(values.get("chunks", 0)),
            patients=int(values.get("patients", 0)),
        )


def grid_input(run_id: str, end: date) -> GridInput:
    """The work prefixes of run ``run_id``'s grid metrics (Terraform lets the grid-metrics
    Lambda read ``<work>*/input/*`` and write ``<work>*/output/*``); each output prefix is in
    Hive layout (``…/run_id=<run>/``), the run's partition of its staging table."""
    run = _token(run_id)
    work = f"{GRID_WORK_PREFIX}{run}/"
    return GridInput(
        run_id=run,
        input_prefix=f"{work}input/",
        metrics_prefix=f"{work}output/{GRID_METRICS_STAGING}/run_id={run}/",
        episodes_prefix=f"{work}output/{GRID_EPISODES_STAGING}/run_id={run}/",
        period_start=end - timedelta(days=PERIOD_DAYS - 1),
        period_end=end,
    )


# ------------------------------------------------------------------ curated, as Athena runs it

CURATE_SQL = ("staging/readings.sql", "curated/readings.sql")
"""The files of the curated rebuild, composed into one Athena statement per chunk."""
MARTS_SQL = (
    "curated/period_readings.sql",
    "marts/patient_daily_metrics.sql",
    "marts/agp_profile.sql",
)
"""The files :func:`build_marts` runs."""
STAGE_GRID_SQL = ("curated/period_readings.sql", "grid/grid_input.sql")
"""The files :func:`stage_grid_input` runs."""
PERIOD_SQL = (
    "curated/period_readings.sql",
    "marts/patient_period_metrics.sql",
    "grid/patient_period_metrics.sql",
    "grid/glycemic_episodes.sql",
)
"""The files :func:`build_period_marts` runs."""


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


def _agp(lake: Lake, plan: EltPlan, end: date, report: EltReport) -> None:
    readings = period_readings_query(lake.database, _days(end - timedelta(PERIOD_DAYS - 1), end))
    columns = [name for name, _ in table_columns(AGP).columns]
    agp = mart_query(lake.database, MARTS_SQL[2], readings, columns)
    location = staging_location(lake, AGP, plan.run_id, 0)
    _unload_and_publish(lake, AGP, agp, location, [(end.isoformat(),)], one_partition=True)
    report.period_end = end.isoformat()
    report.agp_rows = _count(lake, AGP, "period_end", [end.isoformat()], "DATE")


def period_due(lake: Lake, plan: EltPlan, local_days: Sequence[date]) -> date | None:
    """The run date when the period marts must be recomputed: a rebuilt local day falls in the
    window, the partition has no rows yet, or the run is a full refresh; else None."""
    if plan.run_date is None:
        return None
    window = set(_days(plan.run_date - timedelta(days=PERIOD_DAYS - 1), plan.run_date))
    missing = _count(lake, PERIOD, "period_end", [plan.run_date.isoformat()], "DATE") == 0
    if window.intersection(local_days) or missing or plan.full_refresh:
        return plan.run_date
    return None


def build_marts(
    lake: Lake, plan: EltPlan, local_days: Sequence[date], report: EltReport
) -> date | None:
    """The daily marts of ``local_days`` and, when the period is due (:func:`period_due`), the
    AGP of the period; returns the period's end then (its grid metrics come next), else None."""
    days = sorted(local_days)
    if days:
        _daily(lake, plan, days, report)
    end = period_due(lake, plan, days)
    if end is not None:
        _agp(lake, plan, end, report)
    return end


# ------------------------------------------------------------------------ the grid metrics


def chunk_count(patients: int, per_chunk: int = PATIENTS_PER_CHUNK) -> int:
    """Chunks for ``patients`` patients, ~``per_chunk`` each (at least one)."""
    if per_chunk < 1:
        raise SqlError(f"patients per chunk must be positive, got {per_chunk}")
    return max(1, -(-patients // per_chunk))


def grid_input_statement(
    database: str, end: date, count: int, selected: Sequence[int]
) -> Statement:
    """``sql/grid/grid_input.sql`` over the window's ``period_readings``: the readings of the
    chunks ``selected`` (of ``count``), the chunk column last (UNLOAD's partition column)."""
    readings = period_readings_query(database, _days(end - timedelta(PERIOD_DAYS - 1), end))
    main = bind(STAGE_GRID_SQL[1], {"database": database}, {"chunks": list(selected)})
    constants = constants_cte({"chunk_count": float(count)})
    return compose(
        main,
        [("period_readings", readings), ("grid_constants", constants)],
        database,
        GRID_INPUT_COLUMNS,
    )


def stage_grid_input(
    lake: Lake, plan: EltPlan, end: date, per_chunk: int = PATIENTS_PER_CHUNK
) -> GridInput:
    """Unload the period's readings under the run's input prefix, ``chunk=<n>/`` per hash
    bucket of the patient, ~``per_chunk`` patients a chunk (one ``UNLOAD`` per
    :data:`MAX_PARTITIONS_PER_WRITE` chunks, each into a prefix of its own: Athena unloads only
    into an empty one). What an earlier attempt of the run left is removed first."""
    grid = grid_input(plan.run_id, end)
    readings = period_readings_query(lake.database, _days(grid.period_start, end))
    counted = lake.engine.execute(
        # The composed SQL of sql/ around its parameters: no values in the text.
        f"SELECT count(DISTINCT patient_id) AS patients FROM ({readings.sql}) AS period",  # noqa: S608
        readings.parameters,
    ).columns
    patients = int(counted["patients"][0]) if counted.get("patients") else 0
    count = chunk_count(patients, per_chunk)
    _delete_under(lake, f"{GRID_WORK_PREFIX}{grid.run_id}/")
    numbers = [str(n) for n in range(count)]
    for index, selected in enumerate(chunks(numbers)):
        statement = grid_input_statement(lake.database, end, count, [int(n) for n in selected])
        target = lake.storage.uri(f"{grid.input_prefix}part-{index:03d}/")
        unloaded = unload(statement, target, ("chunk",))
        lake.engine.execute(unloaded.sql, unloaded.parameters)
    return replace(grid, chunks=count, patients=patients)


class GridMetricsMissing(RuntimeError):
    """Some patients of the window have no grid metrics: a chunk was not computed."""


def build_period_marts(lake: Lake, grid: GridInput, report: EltReport) -> None:
    """The period marts from the run's grid outputs (after every chunk was computed).

    The outputs become the staging tables' ``run_id=<run>`` partitions (published through the
    catalog from where the grid-metrics Lambda wrote them); ``patient_period_metrics`` is the
    SQL metrics joined with them and ``glycemic_episodes`` the episodes, each one Athena
    ``UNLOAD`` published as its ``period_end`` partition; then the staging partitions are
    dropped and the run's work objects deleted. Nothing is published when a patient of the
    window lacks grid metrics. Safe to repeat: an output already published is not looked for
    again where it was written.
    """
    end = grid.period_end.isoformat()
    partition = [(grid.run_id,)]
    for table, prefix in ((GRID_METRICS_STAGING, grid.metrics_prefix),
                          (GRID_EPISODES_STAGING, grid.episodes_prefix)):  # fmt: skip
        if any(True for _ in lake.storage.list(prefix)):
            staged = prefix.removesuffix(f"run_id={grid.run_id}/")
            lake.catalog.publish(table, lake.storage.uri(staged), partition)
    computed = _count(lake, GRID_METRICS_STAGING, "run_id", [grid.run_id], None)
    if computed != grid.patients:
        raise GridMetricsMissing(
            f"run {grid.run_id}: {computed} of the window's {grid.patients} patients have grid "
            f"metrics under {lake.storage.uri(grid.metrics_prefix)}; period marts not published"
        )
    readings = period_readings_query(lake.database, _days(grid.period_start, grid.period_end))
    joined = compose(
        bind(PERIOD_SQL[2], {"database": lake.database}, {"run_id": [grid.run_id]}),
        [("period_sql_metrics", mart_query(lake.database, PERIOD_SQL[1], readings))],
        lake.database,
        table_columns(PERIOD).names,
    )
    episodes = bind(PERIOD_SQL[3], {"database": lake.database}, {"run_id": [grid.run_id]})
    for table, statement in ((PERIOD, joined), (EPISODES, episodes)):
        location = staging_location(lake, table, grid.run_id, 0)
        _unload_and_publish(lake, table, statement, location, [(end,)])
    dropped = lake.storage.uri(f"{GRID_WORK_PREFIX}{grid.run_id}/dropped/")  # holds nothing
    for table in GRID_TABLES:
        lake.catalog.publish(table, dropped, partition)
    _delete_under(lake, f"{GRID_WORK_PREFIX}{grid.run_id}/")
    report.period_end = end
    report.period_rows = _count(lake, PERIOD, "period_end", [end], "DATE")
    report.episode_rows = _count(lake, EPISODES, "period_end", [end], "DATE")


def _delete_under(lake: Lake, prefix: str) -> None:
    lake.storage.delete([item.key for item in lake.storage.list(prefix)])


def commit(lake: Lake, plan: EltPlan) -> None:
    """Record the plan's raw files as processed (last: a run that fails before is repeated)."""
    key = _snapshot_key(plan.run_id)
    listing: RawListing = json.loads(lake.storage.read_bytes(key))
    save_state(lake.storage, listing)
    lake.storage.delete([key])


def run_elt(
    lake: Lake,
    run_date: date | None = None,
    *,
    full_refresh: bool = False,
    patients_per_chunk: int = PATIENTS_PER_CHUNK,
) -> EltReport:
    """One incremental ELT run (see the module docstring): plan, curate, marts, grid metrics,
    period marts, commit — the steps the pipeline runs one by one with the data-quality gate
    between curate and marts (and the grid metrics as its Distributed Map).

    Parameters
    ----------
    lake
        The ports (a composition root builds them: :func:`glucosestream.local.lake.local_lake`).
    run_date
        The last LOCAL day of the 14-day period marts; by default the newest raw ``dt``.
    full_refresh
        Rebuild every raw ``dt`` (and every local day), ignoring the saved state.
    patients_per_chunk
        The grid metrics' chunk size (:data:`PATIENTS_PER_CHUNK`).
    """
    plan = plan_run(lake, run_date, full_refresh=full_refresh)
    report = EltReport(run_date=plan.run_date, raw_files_new=plan.raw_files_new)
    local_days = curate(lake, plan, report)
    end = build_marts(lake, plan, local_days, report)
    if end is not None:
        grid = stage_grid_input(lake, plan, end, patients_per_chunk)
        lake.grid.compute(lake.storage, grid)
        build_period_marts(lake, grid, report)
    commit(lake, plan)
    return report
