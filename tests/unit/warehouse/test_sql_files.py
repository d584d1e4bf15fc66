"""Every SQL file parses in the Athena (Trino) dialect and transpiles to DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlglot

from glucosestream.local.athena import to_duckdb
from glucosestream.warehouse.sql_text import SQL_DIR, bind

LISTS = {
    "partitions": ["2024-03-01", "2024-03-02"],
    "window_partitions": ["2024-02-29", "2024-03-01"],
    "local_days": [date(2024, 3, 1)],
    "chunks": [0, 1],
    "run_id": ["r1"],
}
"""A value list for every list placeholder the files use (each becomes ``?, ?, …``)."""

FILES = sorted(SQL_DIR.rglob("*.sql"))


def test_there_are_sql_files() -> None:
    assert len(FILES) >= 2


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_parses_as_athena_sql(path: Path) -> None:
    statement = bind(str(path.relative_to(SQL_DIR)), {"database": "gs_test_lake"}, LISTS)
    text = statement.sql
    assert text.count("?") == len(statement.parameters)  # no '?' outside the placeholders
    statements = sqlglot.parse(text, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert statements
    assert to_duckdb(text)
