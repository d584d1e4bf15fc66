"""Data-quality checks that gate the pipeline (DESIGN §5: the ``dq_results`` mart).

The checks and their severities and thresholds are declared in one place,
``sql/dq/checks.json``. A ``sql`` check is ``sql/dq/<check>.sql``: a query (Athena SQL, run by the
lake's query engine: Athena, or DuckDB locally) returning the FAILING rows, zero rows = pass; its
first column ``failing_key`` identifies each row. ``schema_drift`` is the one ``python`` check
(:func:`schema_drift`): it compares the column names of the run's raw and curated Parquet files
with the DDL in ``sql/ddl/`` and yields results of the same shape.

The SQL reads the lake tables ``raw_readings`` and ``curated_readings`` and, per run:

* ``${partitions}``: the ``dt`` partitions the run checks (those the ELT rebuilt), and
  ``${window_partitions}``: the ``wear_window_days`` UTC days ending at the run date (sensor
  wear) — execution parameters;
* ``dq_thresholds``: one row, one DOUBLE column per threshold of ``checks.json``, and ``dq_run``
  (as_of, settled_before): the instant "now" of the run (UTC, no zone), for future timestamps,
  and the instant raw rows must have been ingested by for the curated rebuild to have read them
  (the plan's start less ``reconciliation_grace_seconds``, wall clock) — one-row queries
  composed in as CTEs (Athena takes parameters only in WHERE clauses; these are the run's own
  numbers, never data).

Use (after :func:`glucosestream.elt.refresh.run_elt`)::

    results = run_checks(lake, report.curated_partitions, run_date=report.run_date)
    write_dq_results(lake, results, run_id, run_date=report.run_date)
    if not gate(results):
        ...  # a FAIL-severity check failed: stop before publishing the marts
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from glucosestream.elt.ports import Lake
from glucosestream.elt.tables import CURATED, table_prefix
from glucosestream.lake.storage import hidden_from_queries
from glucosestream.warehouse.sql_text import (
    SQL_DIR,
    SqlError,
    Statement,
    bind,
    compose,
    constants_cte,
    identifier,
    table_columns,
)

CHECKS_FILE = "dq/checks.json"
"""Relative to ``sql/``: the declarative list of checks, severities and thresholds."""
RAW = "raw_readings"
DQ_RESULTS = "dq_results"
SAMPLE_SIZE = 5
_RUN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")

Severity = Literal["WARN", "FAIL"]
Status = Literal["PASS", "WARN", "FAIL"]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One entry of ``checks.json``."""

    check: str
    severity: Severity
    kind: Literal["sql", "python"]
    thresholds: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Catalog:
    """``checks.json``: the checks in order and the threshold values by name."""

    checks: tuple[CheckSpec, ...]
    thresholds: dict[str, float]


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    severity: Severity
    status: Status
    failing_count: int
    sample: tuple[str, ...]
    """Up to :data:`SAMPLE_SIZE` failing keys, sorted."""

    @property
    def passed(self) -> bool:
        return self.status == "PASS"


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate ``checks.json`` (every threshold named by a check must be defined)."""
    document: dict[str, Any] = json.loads((path or SQL_DIR / CHECKS_FILE).read_text())
    thresholds = {
        identifier(name): float(entry["value"]) for name, entry in document["thresholds"].items()
    }
    specs = []
    for entry in document["checks"]:
        severity = entry["severity"]
        kind = entry.get("kind", "sql")
        if severity not in ("WARN", "FAIL"):
            raise ValueError(f"{entry['check']}: severity must be WARN or FAIL, not {severity!r}")
        if kind not in ("sql", "python"):
            raise ValueError(f"{entry['check']}: kind must be sql or python, not {kind!r}")
        unknown = [name for name in entry.get("thresholds", []) if name not in thresholds]
        if unknown:
            raise ValueError(f"{entry['check']}: undefined thresholds {unknown}")
        specs.append(
            CheckSpec(
                identifier(entry["check"]),
                severity,
                kind,
                tuple(entry.get("thresholds", [])),
                entry.get("description", ""),
            )
        )
    names = [spec.check for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError("checks.json: duplicate check names")
    return Catalog(tuple(specs), thresholds)


def dq_sql_files(catalog: Catalog | None = None) -> list[str]:
    """The files the checks run (relative to ``sql/``): ``checks.json`` and each SQL check."""
    catalog = catalog or load_catalog()
    return [CHECKS_FILE] + [f"dq/{s.check}.sql" for s in catalog.checks if s.kind == "sql"]


def result_of(spec: CheckSpec, failing_keys: Sequence[str], failing_count: int) -> CheckResult:
    status: Status = "PASS" if failing_count == 0 else spec.severity
    return CheckResult(
        spec.check, spec.severity, status, failing_count, tuple(sorted(failing_keys)[:SAMPLE_SIZE])
    )


# ----------------------------------------------------------------------------- schema drift


def parquet_column_names(data: bytes) -> list[str]:
    """The top-level column names of a Parquet file's schema."""
    import pyarrow as pa  # only this check reads Parquet footers
    import pyarrow.parquet as pq

    names: list[str] = pq.read_schema(pa.BufferReader(data)).names
    return names


def schema_drift(lake: Lake, tables_keys: Mapping[str, Sequence[str]]) -> list[str]:
    """Failing keys ``<table>:<file>: missing [...] unexpected [...]`` for Parquet files whose
    column names differ from the table's DDL columns (partition columns may be absent or
    present: Hive-style files normally omit them). Names only; types are cast on read."""
    failing = []
    for table, keys in tables_keys.items():
        ddl = table_columns(table)
        expected = {name for name, _ in ddl.columns}
        partition = {name for name, _ in ddl.partitioned_by}
        prefix = _table_key_prefix(lake, table)
        for key in keys:
            found = set(parquet_column_names(lake.storage.read_bytes(key)))
            missing = sorted(expected - found)
            unexpected = sorted(found - expected - partition)
            if missing or unexpected:
                relative = key[len(prefix) :] if key.startswith(prefix) else key
                failing.append(f"{table}:{relative}: missing {missing} unexpected {unexpected}")
    return sorted(failing)


def _table_key_prefix(lake: Lake, table: str) -> str:
    return lake.names.raw_readings_prefix if table == RAW else table_prefix(lake.names, table)


def _partition_files(lake: Lake, table: str, dts: Sequence[str]) -> list[str]:
    """The visible Parquet files of these ``dt`` partitions (any deeper Hive levels too): the
    raw zone's by its layout, a published table's where the catalog says each partition is
    (with Glue, a version prefix)."""
    if table == RAW:
        prefix = _table_key_prefix(lake, table)
        locations = [f"{prefix}dt={dt}/" for dt in dts]
    else:
        bucket = lake.storage.uri("")
        found = lake.catalog.partition_locations(table, [(dt,) for dt in dts])
        locations = [found[values][len(bucket) :] for values in sorted(found)]
    files = []
    for location in locations:
        for item in lake.storage.list(location):
            parts = item.key[len(location) :].split("/")
            if item.key.endswith(".parquet") and not any(hidden_from_queries(p) for p in parts):
                files.append(item.key)
    return files


# ------------------------------------------------------------------------------------- run


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def check_statement(
    lake: Lake,
    spec: CheckSpec,
    catalog: Catalog,
    partitions: Sequence[str],
    window: Sequence[str],
    as_of: datetime,
    planned_at: datetime,
) -> Statement:
    """``sql/dq/<check>.sql`` as one Athena statement: the partitions as parameters, the
    thresholds and the run's instants as the CTEs it reads."""
    database = lake.database
    check = bind(
        f"dq/{spec.check}.sql",
        {"database": database},
        {"partitions": partitions, "window_partitions": window},
    )
    grace = timedelta(seconds=catalog.thresholds.get("reconciliation_grace_seconds", 300))
    constants = {
        "dq_thresholds": constants_cte(catalog.thresholds),
        "dq_run": constants_cte(
            {"as_of": _naive_utc(as_of), "settled_before": _naive_utc(planned_at) - grace}
        ),
    }
    read = [(name, cte) for name, cte in constants.items() if f"{database}.{name}" in check.sql]
    return compose(check, read, database) if read else check


def _run_sql_check(lake: Lake, spec: CheckSpec, statement: Statement) -> CheckResult:
    rows = lake.engine.execute(statement.sql, statement.parameters).columns
    if "failing_key" not in rows:
        raise SqlError(f"dq/{spec.check}.sql: the query must return a failing_key column")
    keys = [str(key) for key in rows["failing_key"]]
    return result_of(spec, keys, len(keys))


def run_checks(
    lake: Lake,
    partitions: Iterable[str],
    *,
    run_date: date | None = None,
    as_of: datetime | None = None,
    planned_at: datetime | None = None,
    catalog: Catalog | None = None,
) -> list[CheckResult]:
    """Run every check of ``checks.json`` over the ``dt`` partitions of a run, in file order.

    Parameters
    ----------
    lake
        The lake's ports (as for the ELT).
    partitions
        The ``dt`` partitions (``YYYY-MM-DD``) to check: those the ELT run rebuilt
        (``EltReport.curated_partitions``). None at all: every check passes trivially.
    run_date
        The last day of the sensor-wear window; by default the newest partition.
    as_of
        "Now" for future timestamps; by default the current time.
    planned_at
        When the run listed the raw files it rebuilds from (wall clock); by default now. Raw
        rows ingested ``reconciliation_grace_seconds`` before it must be in curated.
    """
    catalog = catalog or load_catalog()
    dts = sorted(set(partitions))
    for dt in dts:
        date.fromisoformat(dt)  # a partition value, nothing else
    end = run_date or (date.fromisoformat(dts[-1]) if dts else None)
    days = int(catalog.thresholds.get("wear_window_days", 14))
    window = [(end - timedelta(days=n)).isoformat() for n in range(days)] if end is not None else []
    now = datetime.now(UTC)

    results = []
    for spec in catalog.checks:
        if spec.kind == "python":
            if spec.check != "schema_drift":
                raise ValueError(f"no python check named {spec.check}")
            files = {
                RAW: _partition_files(lake, RAW, dts),
                CURATED: _partition_files(lake, CURATED, dts),
            }
            keys = schema_drift(lake, files)
            results.append(result_of(spec, keys, len(keys)))
        else:
            statement = check_statement(
                lake, spec, catalog, dts, sorted(window), as_of or now, planned_at or now
            )
            results.append(_run_sql_check(lake, spec, statement))
    return results


def gate(results: Iterable[CheckResult]) -> bool:
    """False if any FAIL-severity check failed (WARN results never block)."""
    return not any(result.status == "FAIL" for result in results)


# ------------------------------------------------------------------------------ dq_results


def write_dq_results(
    lake: Lake,
    results: Sequence[CheckResult],
    run_id: str,
    *,
    run_date: date | None = None,
    checked_at: datetime | None = None,
) -> str:
    """Write one run's results to the ``dq_results`` mart
    (``marts/dq_results/run_date=YYYY-MM-DD/<run_id>.parquet``); returns the key written.

    Partitioned by ``run_date`` (default: today, UTC); the object is named by the run id, so
    writing the same run again replaces its results (an atomic put).
    """
    import pyarrow as pa  # the one Parquet writer of this module

    from glucosestream.lake.raw_zone.files import parquet_bytes

    if not _RUN_ID.match(run_id):  # it becomes a key
        raise ValueError(f"{run_id!r} is not a run id (letters, digits, '_', '-', '.', ':')")
    when = (checked_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    day = run_date or when.date()
    schema = pa.schema(
        [
            ("run_id", pa.string()),
            ("check", pa.string()),
            ("severity", pa.string()),
            ("status", pa.string()),
            ("failing_count", pa.int64()),
            ("sample", pa.list_(pa.string())),
            ("checked_at", pa.timestamp("ms")),
        ]
    )
    table = pa.Table.from_pylist(
        [
            {
                "run_id": run_id,
                "check": r.check,
                "severity": r.severity,
                "status": r.status,
                "failing_count": r.failing_count,
                "sample": list(r.sample),
                "checked_at": when,
            }
            for r in results
        ],
        schema=schema,
    )
    key = f"{table_prefix(lake.names, DQ_RESULTS)}run_date={day.isoformat()}/{run_id}.parquet"
    lake.storage.write_bytes(key, parquet_bytes(table, compression="zstd"))
    return key
