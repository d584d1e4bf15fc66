"""LocalAthena as the CSV commands' in-process engine: Arrow tables in, composed statements run."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from glucosestream.local.athena import LocalAthena, SqlError
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
