"""The incremental ELT: raw zone → curated readings → marts, in the local lake (DuckDB).

One copy of every query: the Athena SQL in ``sql/`` (``ddl/``, ``staging/readings.sql``,
``curated/``, ``marts/``) runs in :class:`~glucosestream.local.athena.LocalAthena`, transpiled
by sqlglot at run time; ``INSERT INTO <lake table> SELECT …`` becomes DuckDB ``COPY … TO
(FORMAT PARQUET, PARTITION_BY …)`` into a staging directory whose partitions are then swapped in.

A run (:func:`run_elt`):

1. **Find what changed.** It lists ``<lake>/raw/readings/dt=*/hour=*/*.parquet`` (names and
   sizes only; Firehose never rewrites a file) and compares the listing with the state of the
   last successful run, ``<lake>/pipeline_state/elt.json`` (every raw file processed, per
   ``dt``). The ``dt`` partitions with a new (or changed, or vanished) file are the ones to
   rebuild; ``full_refresh`` rebuilds all. Listing is the only step that looks at all of history
   and it reads no data.
2. **Curated.** Each changed ``dt`` of ``curated/readings/`` is rebuilt from ALL raw files of that
   ``dt`` (``sql/staging/readings.sql`` → ``sql/curated/readings.sql``: dedupe on (patient_id,
   device_id, measured_at) keeping the earliest produced copy; a duplicate always shares its
   original's ``dt``), at most :data:`MAX_PARTITIONS_PER_WRITE` partitions per statement (Athena's
   limit per INSERT/CTAS). Partitions stay in UTC (DESIGN §5): a late reading lands in its
   event-time ``dt`` and only that ``dt`` is rebuilt. The two files are composed into one Athena
   ``UNLOAD`` per chunk (:func:`curate_statement`; the state machine runs these as Athena
   ``startQueryExecution.sync`` tasks, the local engine runs them in DuckDB) into a staging prefix
   beside the table; the new partition directories are renamed over the old ones only after
   every statement succeeded (:func:`publish_curated`), so a failing query leaves the old
   partitions in place.
3. **Daily marts.** ``patient_daily_metrics`` is recomputed for every LOCAL day that has a
   reading in a rebuilt ``dt`` (a local day spans the UTC dates day - 1 .. day + 1, so those
   curated partitions are read), all patients of that day, and its ``local_day`` partitions are
   replaced.
4. **Period marts.** For the 14 LOCAL days ending at the run date (``run_date``; by default the
   newest raw ``dt``), ``patient_period_metrics`` (the SQL of ``sql/marts/`` plus the grid
   metrics, as ``glucosestream metrics`` computes them), ``agp_profile`` and ``glycemic_episodes``
   (:func:`glucosestream.domain.metrics.episodes`, as ``glucosestream episodes``) are recomputed
   for every patient with readings in the window and their ``period_end=<run date>`` partitions
   replaced. They are skipped when no rebuilt day falls in the window and the partition exists.
5. **State.** Only then is the new raw listing saved (atomically): a run that fails anywhere is
   simply repeated by the next one, and repeating a run gives the same partitions.

The cost of an incremental run grows with the new data (the rebuilt ``dt`` partitions, their
local days, and the fixed 14-day window), not with the length of history.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from glucosestream.domain.metrics import episodes
from glucosestream.episodes_report import on_wall_clock
from glucosestream.local.athena import LocalAthena, SqlError, render, sql_file
from glucosestream.metrics_report import METRIC_COLUMNS, grid_metrics, local_series, period_series
from glucosestream.settings import Settings

MAX_PARTITIONS_PER_WRITE = 100
"""Athena writes at most 100 partitions per INSERT INTO / CTAS."""
PERIOD_DAYS = 14
"""The AGP window: 14 local days ending at the run date."""
STATE_FILE = Path("pipeline_state") / "elt.json"
"""Relative to the lake: the raw files the last successful run processed."""
STATE_VERSION = 1

CURATED = "curated_readings"
DAILY = "patient_daily_metrics"
PERIOD = "patient_period_metrics"
AGP = "agp_profile"
EPISODES = "glycemic_episodes"

RawListing = dict[str, dict[str, int]]
"""dt → {path relative to raw/readings/ → size in bytes}."""


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


# ------------------------------------------------------------------------------------- paths


def raw_root(settings: Settings) -> Path:
    return settings.lake_dir / settings.names.raw_readings_prefix


def table_location(settings: Settings, table: str) -> Path:
    """Where a lake table lives locally: the key layout of the lake bucket."""
    if table == CURATED:
        return settings.lake_dir / settings.names.curated_prefix / "readings"
    return settings.lake_dir / settings.names.marts_prefix / table


def list_raw(root: Path) -> RawListing:
    """Every visible raw Parquet file per ``dt`` (hidden temporaries are not data yet)."""
    listing: RawListing = {}
    if not root.is_dir():
        return listing
    for day in os.scandir(root):
        if not (day.is_dir() and day.name.startswith("dt=")):
            continue
        files: dict[str, int] = {}
        for hour in os.scandir(day.path):
            if not (hour.is_dir() and hour.name.startswith("hour=")):
                continue
            for entry in os.scandir(hour.path):
                if entry.name.endswith(".parquet") and not entry.name.startswith("."):
                    files[f"{day.name}/{hour.name}/{entry.name}"] = entry.stat().st_size
        if files:
            listing[day.name[len("dt=") :]] = files
    return listing


def load_state(lake: Path) -> RawListing:
    path = lake / STATE_FILE
    if not path.is_file():
        return {}
    document = json.loads(path.read_text())
    if document.get("version") != STATE_VERSION:
        return {}
    raw: RawListing = document["raw"]
    return raw


def save_state(lake: Path, listing: RawListing) -> None:
    path = lake / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps({"version": STATE_VERSION, "raw": listing}, sort_keys=True))
    os.replace(temporary, path)


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


# ------------------------------------------------------------------------------------- engine


def lake_engine(settings: Settings) -> LocalAthena:
    """A local Athena with every lake table of ``sql/ddl/`` bound to its local location."""
    engine = LocalAthena(settings.names.glue_database)
    engine.define_table("ddl/raw_readings.sql", raw_root(settings))
    for table in (CURATED, DAILY, PERIOD, AGP, EPISODES):
        engine.define_table(f"ddl/{table}.sql", table_location(settings, table))
    return engine


def _set_parameters(
    engine: LocalAthena, partitions: Iterable[str], local_days: Iterable[date] = ()
) -> None:
    """The run's parameter tables: ``elt_partitions(dt)`` and ``elt_local_days(local_day)``."""
    engine.register(
        "elt_partitions", pa.table({"dt": pa.array(sorted(set(partitions)), pa.string())})
    )
    engine.register(
        "elt_local_days", pa.table({"local_day": pa.array(sorted(set(local_days)), pa.date32())})
    )


def _count(engine: LocalAthena, table: str) -> int:
    rows = engine.connection.execute(f"SELECT count(*) FROM {engine.database}.{table}").fetchall()  # noqa: S608
    return int(rows[0][0]) if rows else 0


def _existing(dts: Iterable[str], known: Iterable[str]) -> list[str]:
    present = set(known)
    return sorted(dt for dt in set(dts) if dt in present)


def _stage_period_readings(engine: LocalAthena, days: Sequence[date], known: Iterable[str]) -> None:
    """``period_readings``: the metric readings of these local days (curated dt day±1 read)."""
    dts = {(day + timedelta(days=shift)).isoformat() for day in days for shift in (-1, 0, 1)}
    read = _existing(dts, known)
    engine.bind(CURATED, [(dt,) for dt in read])
    _set_parameters(engine, read, days)
    engine.create_table("period_readings", "curated/period_readings.sql")


# -------------------------------------------------------------------------------------- steps


def _daily(engine: LocalAthena, days: list[date], known: list[str], report: EltReport) -> None:
    isos = [day.isoformat() for day in days]
    for chunk in chunks(isos):
        chunk_days = [date.fromisoformat(day) for day in chunk]
        _stage_period_readings(engine, chunk_days, known)
        engine.insert_overwrite(
            "marts/patient_daily_metrics.sql", DAILY, replace=[(day,) for day in chunk]
        )
        engine.bind(DAILY, [(day,) for day in chunk])
        report.daily_rows += _count(engine, DAILY)
    report.daily_days = isos


def period_metrics_table(engine: LocalAthena, start: date, end: date) -> pa.Table:
    """``patient_period_metrics`` rows of ``period_readings``: the SQL mart + grid metrics."""
    sql_rows = engine.query("marts/patient_period_metrics.sql").to_pylist()
    series = local_series(engine)
    rows = []
    for row in sql_rows:
        patient = row["patient_id"]
        merged = {**row, **grid_metrics(*series[patient])}
        rows.append(
            {
                "patient_id": patient,
                "period_start": start,
                **{column: merged[column] for column in METRIC_COLUMNS[1:]},
                "period_end": end,
            }
        )
    if not rows:
        return pa.table({"patient_id": pa.array([], pa.string())})
    return pa.Table.from_pylist(rows)


def episodes_table(engine: LocalAthena, end: date) -> pa.Table:
    """One row per glycaemic episode of ``period_readings`` (local grid instants)."""
    rows = []
    for patient, series in period_series(engine).items():
        for found in episodes(series.times, series.glucose).episodes:
            e = on_wall_clock(found, series)
            rows.append(
                {
                    "patient_id": patient,
                    "type": e.kind,
                    "level": e.level,
                    "start_local": datetime.fromtimestamp(e.start_ms / 1000, tz=UTC).replace(
                        tzinfo=None
                    ),
                    "end_local": datetime.fromtimestamp(e.end_ms / 1000, tz=UTC).replace(
                        tzinfo=None
                    ),
                    "duration_min": int(e.duration_min),
                    "extreme_mg_dl": float(e.extreme_mg_dl),
                    "mean_mg_dl": float(e.mean_mg_dl),
                    "exclusive": bool(e.exclusive),
                    "period_end": end,
                }
            )
    if not rows:
        return pa.table({"patient_id": pa.array([], pa.string())})
    return pa.Table.from_pylist(rows)


def _ensure_columns(engine: LocalAthena, table: str, data: pa.Table) -> pa.Table:
    """An empty result as the table's columns (so that writing it is a typed no-op)."""
    if data.num_rows:
        return data
    lake = engine.lake_tables[table]
    columns = [name for name, _ in (*lake.columns, *lake.partitioned_by)]
    return pa.table({name: pa.array([], pa.string()) for name in columns})


def _period(engine: LocalAthena, end: date, known: list[str], report: EltReport) -> None:
    start = end - timedelta(days=PERIOD_DAYS - 1)
    _stage_period_readings(engine, _days(start, end), known)
    partition = [(end.isoformat(),)]
    periods = period_metrics_table(engine, start, end)
    engine.write_arrow(PERIOD, _ensure_columns(engine, PERIOD, periods), replace=partition)
    engine.insert_overwrite(
        "marts/agp_profile.sql",
        AGP,
        replace=partition,
        extra_columns={"period_end": "CAST(? AS DATE)"},
        parameters=[end.isoformat()],
    )
    found = episodes_table(engine, end)
    engine.write_arrow(EPISODES, _ensure_columns(engine, EPISODES, found), replace=partition)
    report.period_end = end.isoformat()
    report.period_rows = periods.num_rows
    report.episode_rows = found.num_rows
    engine.bind(AGP, partition)
    report.agp_rows = _count(engine, AGP)


# ---------------------------------------------------------------------------------------- run


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


def _snapshot_path(lake: Path, run_id: str) -> Path:
    return lake / STATE_FILE.parent / "runs" / f"{run_id}.json"


def plan_run(
    settings: Settings,
    run_date: date | None = None,
    *,
    full_refresh: bool = False,
    run_id: str | None = None,
) -> EltPlan:
    """Find the changed partitions; snapshot the raw listing the run will commit as processed.

    Files that land after the snapshot are not in it, so the next run sees them as new even if
    this run's rebuild already read them (rebuilding a partition twice is idempotent).
    """
    lake = settings.lake_dir
    remove_leftovers(settings)
    listing = list_raw(raw_root(settings))
    processed = {} if full_refresh else load_state(lake)
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
    snapshot = _snapshot_path(lake, plan.run_id)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    temporary = snapshot.with_name(f".{snapshot.name}.partial")
    temporary.write_text(json.dumps(listing, sort_keys=True))
    os.replace(temporary, snapshot)
    return plan


LEFTOVER_AGE_S = 3600
"""Staging/trash directories older than this belong to a run that died: another run may still
be using a younger one."""


def remove_leftovers(settings: Settings, now: float | None = None) -> list[Path]:
    """Delete the ``.staging-*``/``.trash-*`` directories a killed run left beside the tables.

    Safe: a run that died mid-swap never saved its manifest, so the next run rebuilds every
    partition it was writing.
    """
    now = time.time() if now is None else now
    removed = []
    for table in (CURATED, DAILY, PERIOD, AGP, EPISODES):
        location = table_location(settings, table)
        if not location.is_dir():
            continue
        for leftover in [*location.glob(".staging-*"), *location.glob(".trash-*")]:
            if leftover.is_dir() and now - leftover.stat().st_mtime > LEFTOVER_AGE_S:
                shutil.rmtree(leftover, ignore_errors=True)
                removed.append(leftover)
    return removed


def _snapshot(settings: Settings, plan: EltPlan) -> RawListing:
    listing: RawListing = json.loads(_snapshot_path(settings.lake_dir, plan.run_id).read_text())
    return listing


def curate(settings: Settings, plan: EltPlan, report: EltReport) -> list[date]:
    """Rebuild the plan's curated partitions; returns the local days their readings fall on.

    The two halves the state machine runs as separate states: each statement of
    :func:`curate_queries` (Athena ``startQueryExecution.sync``; here the local engine), then
    :func:`publish_curated`.
    """
    queries = curate_queries(settings, plan)
    engine = lake_engine(settings)
    for query in queries:
        start_query(settings, query["QueryString"], query["ExecutionParameters"], engine)
    return publish_curated(settings, plan, queries, report)


def start_query(
    settings: Settings,
    query_string: str,
    parameters: Sequence[str] = (),
    engine: LocalAthena | None = None,
) -> dict[str, Any]:
    """One Athena query execution on the local lake (``s3://<lake bucket>/`` locations map to
    ``settings.lake_dir``); Athena's GetQueryExecution response."""
    return (engine or lake_engine(settings)).start_query_execution(
        query_string, parameters, location_of=lambda uri: lake_path(settings, uri)
    )


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


def lake_path(settings: Settings, uri: str) -> Path:
    """The local directory of an ``s3://<lake bucket>/<key>`` location (same key layout)."""
    prefix = f"s3://{settings.names.lake_bucket}/"
    if not uri.startswith(prefix) or ".." in uri.split("/"):
        raise SqlError(f"{uri!r} is not a location in the lake bucket {prefix}")
    return settings.lake_dir / uri[len(prefix) :]


def staging_location(settings: Settings, run_id: str, chunk: int) -> str:
    """Where chunk ``chunk`` of run ``run_id`` unloads its curated partitions: beside the table
    (a dot-prefixed key, which Athena does not read as part of the table)."""
    names = settings.names
    token = run_id.lower()
    if not _RUN_TOKEN.match(token):
        raise SqlError(f"{run_id!r} cannot be part of a location")
    return f"s3://{names.lake_bucket}/{names.curated_prefix}readings/.staging-{token}-{chunk:03d}/"


_RUN_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def curate_statement(database: str, partition_count: int, location: str) -> str:
    """One Athena ``UNLOAD`` rebuilding ``partition_count`` curated ``dt`` partitions (their
    values are the statement's ExecutionParameters, in order) into ``location``.

    It is ``sql/curated/readings.sql`` with its ``staging_readings`` read replaced by the query
    of ``sql/staging/readings.sql``, whose ``elt_partitions`` semi-join becomes
    ``dt IN (?, …)``. UNLOAD rather than INSERT INTO because the rebuild replaces partitions:
    the new files are written beside the table and swapped in afterwards (:func:`publish_curated`),
    so readers never see a half-rebuilt partition and a failed statement changes nothing.
    """
    if not 1 <= partition_count <= MAX_PARTITIONS_PER_WRITE:
        raise SqlError(f"1..{MAX_PARTITIONS_PER_WRITE} partitions per statement")
    staging_text, curated_text = (
        render(sql_file(name).read_text(), {"database": database}) for name in CURATE_SQL
    )
    staging = sqlglot.parse_one(staging_text, read="athena")
    curated = sqlglot.parse_one(curated_text, read="athena")
    if not isinstance(staging, exp.Query) or not isinstance(curated, exp.Insert):
        raise SqlError(f"{CURATE_SQL}: expected a query and an INSERT INTO … SELECT")

    def partitions_as_parameters(node: exp.Expression) -> exp.Expression:
        query = node.args.get("query") if isinstance(node, exp.In) else None
        if query is not None and any(t.name == "elt_partitions" for t in query.find_all(exp.Table)):
            return exp.In(
                this=node.this, expressions=[exp.Placeholder() for _ in range(partition_count)]
            )
        return node

    staged = staging.transform(partitions_as_parameters)
    assert isinstance(staged, exp.Query)

    def staging_as_subquery(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == "staging_readings":
            subquery: exp.Expression = staged.subquery(node.alias_or_name)
            return subquery
        return node

    query = curated.expression.transform(staging_as_subquery)
    if {t.name for t in query.find_all(exp.Table)} & {"elt_partitions", "staging_readings"}:
        raise SqlError(f"{CURATE_SQL}: could not compose the curated statement")
    if not _LOCATION.match(location):
        raise SqlError(f"{location!r} is not an s3://bucket/prefix/ location")
    return (
        f"UNLOAD ({query.sql('athena', comments=False)}) TO '{location}' "
        "WITH (format = 'PARQUET', compression = 'ZSTD', partitioned_by = ARRAY['dt'])"
    )


_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.-]+/[A-Za-z0-9_./=-]+/$")


def curate_queries(settings: Settings, plan: EltPlan) -> list[dict[str, Any]]:
    """The curated rebuild of a plan as Athena query executions, one per chunk of at most
    :data:`MAX_PARTITIONS_PER_WRITE` partitions (the state machine's Map items)."""
    queries = []
    for index, chunk in enumerate(chunks(plan.partitions)):
        location = staging_location(settings, plan.run_id, index)
        queries.append(
            {
                "partitions": chunk,
                "location": location,
                "QueryString": curate_statement(settings.names.glue_database, len(chunk), location),
                "ExecutionParameters": chunk,
            }
        )
    return queries


def publish_curated(
    settings: Settings, plan: EltPlan, queries: Sequence[dict[str, Any]], report: EltReport
) -> list[date]:
    """Swap each unloaded chunk's partitions into the curated table (partitions of the chunk
    that received no row are removed), then count; returns the local days of the readings.

    Safe to repeat after a crash part-way: a partition already swapped in is recognised by its
    files' names and left alone. (On AWS the swap is a Glue partition-location update.)
    """
    engine = lake_engine(settings)
    for query in queries:
        staged = lake_path(settings, str(query["location"]))
        engine.swap_in(CURATED, staged, replace=[(dt,) for dt in query["partitions"]])
        shutil.rmtree(staged, ignore_errors=True)
    local_days: set[date] = set()
    for chunk in chunks(plan.partitions):
        engine.bind(CURATED, [(dt,) for dt in chunk])
        rows, copies = engine.connection.execute(
            f"SELECT count(*), coalesce(sum(copies), 0) FROM {engine.database}.{CURATED}"  # noqa: S608
        ).fetchall()[0]
        report.curated_rows += int(rows)
        report.raw_rows += int(copies)
        days = engine.connection.sql(
            f"SELECT DISTINCT CAST(local_time AS DATE) FROM {engine.database}.{CURATED} "  # noqa: S608
            "WHERE counts_in_metrics"
        ).fetchall()
        local_days.update(day for (day,) in days)
    report.curated_partitions = list(plan.partitions)
    return sorted(local_days)


def build_marts(
    settings: Settings, plan: EltPlan, local_days: Sequence[date], report: EltReport
) -> None:
    """The daily marts of ``local_days`` and the period marts ending at the run date."""
    engine = lake_engine(settings)
    known = [values[0] for values in engine.partitions(CURATED)]
    days = sorted(local_days)
    if days:
        _daily(engine, days, known, report)
    if plan.run_date is not None:
        window = set(_days(plan.run_date - timedelta(days=PERIOD_DAYS - 1), plan.run_date))
        partition = engine.lake_tables[PERIOD].partition_directory([plan.run_date.isoformat()])
        if window.intersection(days) or not partition.is_dir() or plan.full_refresh:
            _period(engine, plan.run_date, known, report)


def commit(settings: Settings, plan: EltPlan) -> None:
    """Record the plan's raw files as processed (last: a run that fails before is repeated)."""
    snapshot = _snapshot_path(settings.lake_dir, plan.run_id)
    save_state(settings.lake_dir, _snapshot(settings, plan))
    snapshot.unlink(missing_ok=True)


def run_elt(
    settings: Settings, run_date: date | None = None, *, full_refresh: bool = False
) -> EltReport:
    """One incremental ELT run over ``settings.lake_dir`` (see the module docstring): plan,
    curate, marts, commit — the steps the pipeline runs one by one with the data-quality gate
    between curate and marts.

    Parameters
    ----------
    settings
        Where the lake is (``lake_dir``) and the Glue database name.
    run_date
        The last LOCAL day of the 14-day period marts; by default the newest raw ``dt``.
    full_refresh
        Rebuild every raw ``dt`` (and every local day), ignoring the saved state.
    """
    plan = plan_run(settings, run_date, full_refresh=full_refresh)
    report = EltReport(run_date=plan.run_date, raw_files_new=plan.raw_files_new)
    local_days = curate(settings, plan, report)
    build_marts(settings, plan, local_days, report)
    commit(settings, plan)
    return report
