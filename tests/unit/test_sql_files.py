"""Every SQL file parses in the Athena (Trino) dialect and transpiles to DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from glucosestream.local.athena import SQL_DIR, render, to_duckdb

FILES = sorted(SQL_DIR.rglob("*.sql"))


def test_there_are_sql_files() -> None:
    assert len(FILES) >= 2


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_parses_as_athena_sql(path: Path) -> None:
    text = render(path.read_text(), {"database": "gs_test_lake"})
    statements = sqlglot.parse(text, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert statements
    assert to_duckdb(text)
