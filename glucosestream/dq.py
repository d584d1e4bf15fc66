"""Data-quality checks that gate the pipeline (DESIGN §5: the ``dq_results`` mart).

The checks and their severities and thresholds are declared in one place,
``sql/dq/checks.json``. A ``sql`` check is ``sql/dq/<check>.sql``: a query (Athena SQL, run
locally by :class:`~glucosestream.local.athena.LocalAthena`) returning the FAILING rows, zero rows
= pass; its first column ``failing_key`` identifies each row. ``schema_drift`` is the one
``python`` check (:func:`schema_drift`): it compares the column names of the run's raw and
curated Parquet files with the DDL in ``sql/ddl/`` and yields results of the same shape.

The SQL reads, besides the lake tables ``raw_readings`` and ``curated_readings`` (bound by
:func:`run_checks` to the partitions it needs, as the ELT binds them), the run's parameter
tables:

* ``dq_partitions(dt)``: the ``dt`` partitions the run checks (those the ELT rebuilt);
* ``dq_window(dt)``: the ``wear_window_days`` UTC days ending at the run date (sensor wear);
* ``dq_thresholds``: one row, one DOUBLE column per threshold of ``checks.json``;
* ``dq_run(as_of, settled_before)``: the instant "now" of the run (UTC, no zone), for future
  timestamps; and the instant raw rows must have been ingested by for the curated rebuild to
  have read them (the plan's start less ``reconciliation_grace_seconds``, wall clock).

Thresholds reach the SQL as table values, never as text.

Use (after :func:`glucosestream.elt.run_elt`)::

    results = run_checks(settings, report.curated_partitions, run_date=report.run_date)
    write_dq_results(results, run_id, settings, run_date=report.run_date)
    if not gate(results):
        ...  # a FAIL-severity check failed: stop before publishing the marts
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.elt import CURATED, lake_engine, table_location
from glucosestream.local.athena import SQL_DIR, LocalAthena, SqlError, identifier
from glucosestream.settings import Settings

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


def schema_drift(engine: LocalAthena, tables_files: dict[str, Sequence[Path]]) -> list[str]:
    """Failing keys ``<table>:<file>: missing [...] unexpected [...]`` for Parquet files whose
    column names differ from the table's DDL columns (partition columns may be absent or
    present: Hive-style files normally omit them). Names only; types are cast on read."""
    failing = []
    for table, files in tables_files.items():
        lake = engine.lake_tables[table]
        expected = {name for name, _ in lake.columns}
        partition = set(lake.partition_names)
        for file in files:
            found = set(pq.read_schema(file).names)
            missing = sorted(expected - found)
            unexpected = sorted(found - expected - partition)
            if missing or unexpected:
                relative = (
                    file.relative_to(lake.location) if file.is_relative_to(lake.location) else file
                )
                failing.append(f"{table}:{relative}: missing {missing} unexpected {unexpected}")
    return sorted(failing)


# ------------------------------------------------------------------------------------- run


def _register_parameters(
    engine: LocalAthena,
    catalog: Catalog,
    partitions: Sequence[str],
    window: Sequence[str],
    as_of: datetime,
    planned_at: datetime,
) -> None:
    engine.register("dq_partitions", pa.table({"dt": pa.array(sorted(partitions), pa.string())}))
    engine.register("dq_window", pa.table({"dt": pa.array(sorted(window), pa.string())}))
    engine.register(
        "dq_thresholds",
        pa.table(
            {name: pa.array([value], pa.float64()) for name, value in catalog.thresholds.items()}
        ),
    )
    grace = timedelta(seconds=catalog.thresholds.get("reconciliation_grace_seconds", 300))
    engine.register(
        "dq_run",
        pa.table(
            {
                "as_of": pa.array([_naive_utc(as_of)], pa.timestamp("ms")),
                "settled_before": pa.array([_naive_utc(planned_at) - grace], pa.timestamp("ms")),
            }
        ),
    )


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _run_sql_check(engine: LocalAthena, spec: CheckSpec) -> CheckResult:
    rows = engine.query(f"dq/{spec.check}.sql")
    if "failing_key" not in rows.column_names:
        raise SqlError(f"dq/{spec.check}.sql: the query must return a failing_key column")
    keys = [str(key) for key in rows.column("failing_key").to_pylist()]
    return result_of(spec, keys, rows.num_rows)


def run_checks(
    settings: Settings,
    partitions: Iterable[str],
    *,
    run_date: date | None = None,
    as_of: datetime | None = None,
    planned_at: datetime | None = None,
    catalog: Catalog | None = None,
    engine: LocalAthena | None = None,
) -> list[CheckResult]:
    """Run every check of ``checks.json`` over the ``dt`` partitions of a run, in file order.

    Parameters
    ----------
    settings
        Where the lake is (as for the ELT).
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
    engine
        A :func:`~glucosestream.elt.lake_engine` to reuse (its raw and curated tables are
        rebound); by default a new one.
    """
    catalog = catalog or load_catalog()
    dts = sorted(set(partitions))
    for dt in dts:
        date.fromisoformat(dt)  # a partition value, nothing else
    engine = engine or lake_engine(settings)
    end = run_date or (date.fromisoformat(dts[-1]) if dts else None)
    days = int(catalog.thresholds.get("wear_window_days", 14))
    window = [(end - timedelta(days=n)).isoformat() for n in range(days)] if end is not None else []
    now = datetime.now(UTC)
    _register_parameters(engine, catalog, dts, window, as_of or now, planned_at or now)

    wanted = set(dts)
    raw_files = engine.bind(
        RAW, [values for values in engine.partitions(RAW) if values[0] in wanted]
    )
    curated_files = engine.bind(CURATED, [(dt,) for dt in dts])
    engine.bind(CURATED, [(dt,) for dt in sorted(set(dts) | set(window))])

    results = []
    for spec in catalog.checks:
        if spec.kind == "python":
            if spec.check != "schema_drift":
                raise ValueError(f"no python check named {spec.check}")
            keys = schema_drift(engine, {RAW: raw_files, CURATED: curated_files})
            results.append(result_of(spec, keys, len(keys)))
        else:
            results.append(_run_sql_check(engine, spec))
    return results


def gate(results: Iterable[CheckResult]) -> bool:
    """False if any FAIL-severity check failed (WARN results never block)."""
    return not any(result.status == "FAIL" for result in results)


# ------------------------------------------------------------------------------ dq_results


DQ_RESULTS_SCHEMA = pa.schema(
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
"""Columns of ``marts/dq_results/run_date=YYYY-MM-DD/<run_id>.parquet``."""


def write_dq_results(
    results: Sequence[CheckResult],
    run_id: str,
    settings: Settings,
    *,
    run_date: date | None = None,
    checked_at: datetime | None = None,
) -> Path:
    """Write one run's results to the ``dq_results`` mart; returns the file written.

    Partitioned by ``run_date`` (default: today, UTC); the file is named by the run id, so
    writing the same run again replaces its results (written beside, then renamed over).
    """
    if not _RUN_ID.match(run_id):  # it becomes a file name
        raise ValueError(f"{run_id!r} is not a run id (letters, digits, '_', '-', '.', ':')")
    when = (checked_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    day = run_date or when.date()
    directory = table_location(settings, DQ_RESULTS) / f"run_date={day.isoformat()}"
    directory.mkdir(parents=True, exist_ok=True)
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
        schema=DQ_RESULTS_SCHEMA,
    )
    path = directory / f"{run_id}.parquet"
    temporary = directory / f".{run_id}.parquet.partial"
    pq.write_table(table, temporary, compression="zstd")
    temporary.replace(path)
    return path
