"""Athena, locally: DuckDB runs the Athena (Trino) SQL in ``sql/``, transpiled by sqlglot.

There is one copy of every query. Files are templated only with ``${database}``-style names;
each statement is transpiled from the ``athena`` dialect to ``duckdb`` at run time. SQL in
``sql/`` is written to mean the same on both engines (e.g. no integer division: ``x / 2`` is
integer division in Trino and float division in DuckDB, so the files divide by ``2.0`` or cast).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot

from glucosestream.resources import project_path

SQL_DIR = project_path("sql")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class SqlError(RuntimeError):
    """A query failed; the message names the SQL file."""


def sql_file(relative: str) -> Path:
    path = SQL_DIR / relative
    if not path.is_file():
        raise SqlError(f"no SQL file {relative} under {SQL_DIR}")
    return path


def render(text: str, names: Mapping[str, str]) -> str:
    """Fill ``${name}`` placeholders with identifiers (never with values)."""
    for value in names.values():
        identifier(value)
    try:
        return Template(text).substitute(names)
    except KeyError as missing:
        raise SqlError(f"no value for placeholder {missing}") from None


def identifier(name: str) -> str:
    """A plain lowercase SQL identifier, or SqlError (names are the only text we build SQL from)."""
    if not _NAME.match(name):
        raise SqlError(f"{name!r} is not a plain SQL identifier")
    return name


def to_duckdb(athena_sql: str) -> list[str]:
    """Athena (Trino) SQL → DuckDB statements."""
    return [s for s in sqlglot.transpile(athena_sql, read="athena", write="duckdb") if s.strip()]


class LocalAthena:
    """DuckDB with one schema per Glue database."""

    def __init__(self, database: str = "gs_local", connection: Any | None = None) -> None:
        self.database = identifier(database)
        self.connection = connection or duckdb.connect()
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")

    def register(self, table: str, data: pa.Table) -> None:
        """Make an Arrow table a table of the database (the CLI's input)."""
        table = identifier(table)
        self.connection.register(f"_{table}_arrow", data)
        self.connection.execute(  # identifiers checked above; no values in the text
            f"CREATE OR REPLACE TABLE {self.database}.{table} AS SELECT * FROM _{table}_arrow"  # noqa: S608
        )
        self.connection.unregister(f"_{table}_arrow")

    def query(self, relative: str, **names: str) -> pa.Table:
        """Run one SQL file (its last statement's result as Arrow)."""
        path = sql_file(relative)
        statements = to_duckdb(render(path.read_text(), {"database": self.database, **names}))
        try:
            for statement in statements[:-1]:
                self.connection.execute(statement)
            result: pa.Table = self.connection.sql(statements[-1]).to_arrow_table()
        except duckdb.Error as error:
            raise SqlError(f"{relative}: {error}") from None
        return result

    def create_table(self, table: str, relative: str, **names: str) -> None:
        """CREATE TABLE <database>.<table> AS the SQL file's query."""
        result = self.query(relative, **names)
        self.register(table, result)
