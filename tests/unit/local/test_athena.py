"""LocalAthena as the CSV commands' in-process engine: Arrow tables in, composed statements run."""

from __future__ import annotations

import os
from datetime import date

import pyarrow as pa
import pytest

from glucosestream.local.athena import LocalAthena, SqlError, engine_connection
from glucosestream.warehouse.arrow_engine import ArrowEngine
from glucosestream.warehouse.sql_text import Statement


def test_a_statement_runs_over_a_registered_table_with_its_parameters_in_order() -> None:
    engine: ArrowEngine = LocalAthena()
    engine.register("t", pa.table({"k": ["a", "b", "c"], "day": ["2026-01-05"] * 3}))
    found = engine.run(
        Statement(
            f"SELECT k FROM {engine.database}.t "
            "WHERE k IN (?, ?) AND CAST(day AS DATE) = CAST(? AS DATE) ORDER BY k",
            ("c", "a", date(2026, 1, 5).isoformat()),
        )
    )
    assert found.column("k").to_pylist() == ["a", "c"]


def test_more_than_one_statement_is_refused() -> None:
    with pytest.raises(SqlError, match="one statement expected, got 2"):
        LocalAthena().run(Statement("SELECT 1; SELECT 2"))


def test_the_engine_holds_at_most_its_memory_limit_and_spills_beyond_it() -> None:
    engine = LocalAthena(memory_limit="64MiB")
    (limit,) = engine.connection.sql("SELECT current_setting('memory_limit')").fetchall()[0]
    assert limit == "64.0 MiB"
    (spill,) = engine.connection.sql("SELECT current_setting('temp_directory')").fetchall()[0]
    assert spill.endswith(f"glucosestream-duckdb-{os.getpid()}")
    # A sort of ~240 MB of rows in 64 MiB: finished by spilling, not refused.
    (rows,) = engine.connection.sql(
        "SELECT count(*) FROM (SELECT range AS n, random() AS r, md5(range::VARCHAR) AS h "
        "FROM range(3000000) ORDER BY r)"
    ).fetchall()[0]
    assert rows == 3_000_000


def test_a_fraction_of_ram_is_a_limit_too() -> None:
    connection = engine_connection("10%")
    (limit,) = connection.sql("SELECT current_setting('memory_limit')").fetchall()[0]
    assert limit.endswith("GiB") or limit.endswith("MiB")
