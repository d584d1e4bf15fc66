"""The SQL files of ``sql/`` as Athena statements: rendering and composition by text.

No SQL parser here (this runs in the pipeline Lambda, where sqlglot is not shipped): the files
are written so that text composition is exact.

* ``${database}``-style placeholders take identifiers only (:func:`render`).
* ``${partitions}``-style list placeholders (:func:`bind`) become ``?, ?, …``, one
  ExecutionParameter each, in the order they appear in the text: values never enter the text.
* A file that reads ``${database}.<name>`` where ``<name>`` is another query's result (the
  staging readings of the curated rebuild, a mart's ``period_readings``) is composed with that
  query as a CTE (:func:`compose`): one statement, one copy of each query.
* :func:`unload` wraps a query as Athena ``UNLOAD (…) TO 's3://…' WITH (…)``.

Athena accepts ``?`` only in WHERE clauses; the few per-run constants a query needs elsewhere
(thresholds from ``sql/dq/checks.json``, the run's instants) are rendered by
:func:`constants_cte` from values the run computed itself (finite floats, datetimes): never data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from string import Template

from glucosestream.resources import project_path
from glucosestream.warehouse.query_engine import Parameter

SQL_DIR = project_path("sql")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9_.=/-]*/$")


class SqlError(RuntimeError):
    """A query could not be built or failed; the message names the SQL file."""


def sql_file(relative: str) -> Path:
    path = SQL_DIR / relative
    if not path.is_file():
        raise SqlError(f"no SQL file {relative} under {SQL_DIR}")
    return path


def identifier(name: str) -> str:
    """A plain lowercase SQL identifier, or SqlError (names are the only text we build SQL from)."""
    if not _NAME.match(name):
        raise SqlError(f"{name!r} is not a plain SQL identifier")
    return name


def render(text: str, names: Mapping[str, str]) -> str:
    """Fill ``${name}`` placeholders with identifiers (never with values)."""
    for value in names.values():
        identifier(value)
    try:
        return Template(text).substitute(names)
    except KeyError as missing:
        raise SqlError(f"no value for placeholder {missing}") from None


@dataclass(frozen=True, slots=True)
class Statement:
    """Athena SQL with ``?`` placeholders and their ExecutionParameters, in order."""

    sql: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)


def bind(
    relative: str,
    names: Mapping[str, str],
    lists: Mapping[str, Sequence[Parameter]] | None = None,
) -> Statement:
    """Render a SQL file: identifiers for ``names``; each ``lists`` placeholder becomes one
    ``?`` per value (``CAST(? AS DATE)`` for a date, passed as ``YYYY-MM-DD``), the values
    joining the parameters in text order. An empty list matches nothing (``NULL``)."""
    lists = lists or {}
    for value in names.values():
        identifier(value)
    parameters: list[Parameter] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in names:
            return names[name]
        if name not in lists:
            raise SqlError(f"{relative}: no value for placeholder {name!r}")
        values = list(lists[name])
        if not values:
            return "NULL"
        marks = []
        for value in values:
            if isinstance(value, date) and not isinstance(value, datetime):
                marks.append("CAST(? AS DATE)")
                parameters.append(value.isoformat())
            else:
                marks.append("?")
                parameters.append(value)
        return ", ".join(marks)

    text = _PLACEHOLDER.sub(substitute, sql_file(relative).read_text())
    return Statement(text, tuple(parameters))


def compose(
    main: Statement,
    ctes: Sequence[tuple[str, Statement]],
    database: str,
    columns: Sequence[str] | None = None,
) -> Statement:
    """``WITH <name> AS (<query>), … SELECT <columns> FROM (<main>)``: ``main``'s reads of
    ``<database>.<name>`` become reads of the CTE. Parameters: the CTEs', then ``main``'s.
    Without CTEs, ``main`` reads the tables themselves (``SELECT <columns> FROM (<main>)``)."""
    text = main.sql
    parts = []
    parameters: list[Parameter] = []
    for name, query in ctes:
        qualified = f"{identifier(database)}.{identifier(name)}"
        if qualified not in text:
            raise SqlError(f"the query does not read {qualified}: nothing to compose")
        text = re.sub(rf"\b{re.escape(qualified)}\b", name, text)
        parts.append(f"{name} AS (\n{query.sql.strip()}\n)")
        parameters.extend(query.parameters)
    selected = ", ".join(identifier(c) for c in columns) if columns else "*"
    head = f"WITH {', '.join(parts)}\n" if parts else ""
    sql = f"{head}SELECT {selected}\nFROM (\n{text.strip()}\n) AS composed"
    return Statement(sql, (*parameters, *main.parameters))


def constants_cte(values: Mapping[str, float | datetime]) -> Statement:
    """A one-row query of named constants the run computed (finite floats as DOUBLE, naive UTC
    datetimes as TIMESTAMP), for the SQL that needs them outside a WHERE clause."""
    selected = []
    for name, value in values.items():
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                raise SqlError(f"{name}: a naive UTC datetime is expected")
            text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
            selected.append(f"CAST('{text}' AS TIMESTAMP) AS {identifier(name)}")
        else:
            number = float(value)
            if not math.isfinite(number):
                raise SqlError(f"{name}: {value!r} is not a finite number")
            selected.append(f"CAST({number!r} AS DOUBLE) AS {identifier(name)}")
    return Statement("SELECT " + ", ".join(selected))


def unload(
    query: Statement,
    location: str,
    partitioned_by: Sequence[str] = (),
    compression: str = "ZSTD",
) -> Statement:
    """Athena ``UNLOAD (query) TO 'location' WITH (format = 'PARQUET', …)``. The location must be
    an ``s3://bucket/prefix/`` without data (Athena refuses to write into a used one)."""
    if not _LOCATION.match(location):
        raise SqlError(f"{location!r} is not an s3://bucket/prefix/ location")
    keys = ", ".join(f"'{identifier(k)}'" for k in partitioned_by)
    options = f"format = 'PARQUET', compression = '{identifier(compression.lower()).upper()}'"
    if keys:
        options += f", partitioned_by = ARRAY[{keys}]"
    sql = f"UNLOAD (\n{query.sql.strip()}\n) TO '{location}' WITH ({options})"
    return Statement(sql, query.parameters)


def athena_literal(value: Parameter) -> str:
    """A parameter as Athena's ExecutionParameters take it: the literal the server binds.

    Athena substitutes each value as a literal, so strings carry their quotes (doubled inside)
    and dates and timestamps their type keyword (Trino compares a DATE with a DATE, never with a
    string); nothing is pasted into the query text. An aware datetime is converted to UTC (the
    lake's timestamps are UTC, without a zone).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='milliseconds')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class TableColumns:
    """A ``sql/ddl/`` table's columns and partition keys, in order (Hive type names)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partitioned_by: tuple[tuple[str, str], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every column, the partition keys last (the order UNLOAD's partitioned_by needs)."""
        return tuple(n for n, _ in (*self.columns, *self.partitioned_by))


_COLUMN = re.compile(r"^\s+([a-z_][a-z0-9_]*)\s+([A-Z]+),?\s*$", re.MULTILINE)


@cache
def table_columns(table: str) -> TableColumns:
    """Parse ``sql/ddl/<table>.sql`` as Terraform's lake module does (same regular layout)."""
    text = sql_file(f"ddl/{identifier(table)}.sql").read_text()
    body = re.search(rf"(?s)\.{table}\s*\((.*?)\n\)\s*\nPARTITIONED BY \(([^)]*)\)", text)
    if body is None:
        raise SqlError(f"ddl/{table}.sql: expected (columns) PARTITIONED BY (keys)")
    columns = tuple((n, t) for n, t in _COLUMN.findall(body.group(1)))
    keys = tuple(re.findall(r"([a-z_][a-z0-9_]*)\s+([A-Z]+)", body.group(2)))
    return TableColumns(table, columns, keys)
