"""Composition of the SQL files by text (glucosestream.warehouse.sql_text)."""

from __future__ import annotations

import pytest

from glucosestream.warehouse.sql_text import SqlError, Statement, compose


def test_a_cte_replaces_the_table_it_stands_for_and_its_parameters_come_first() -> None:
    main = Statement("SELECT a FROM db.t WHERE b IN (?)", ("main",))
    composed = compose(main, [("t", Statement("SELECT ? AS a", ("cte",)))], "db", ["a"])
    assert composed.sql == (
        "WITH t AS (\nSELECT ? AS a\n)\n"
        "SELECT a\nFROM (\nSELECT a FROM t WHERE b IN (?)\n) AS composed"
    )
    assert composed.parameters == ("cte", "main")


def test_without_ctes_the_query_reads_the_tables_themselves() -> None:
    main = Statement("SELECT a, b FROM db.t WHERE b IN (?)", ("x",))
    composed = compose(main, [], "db", ["b"])
    assert composed.sql == "SELECT b\nFROM (\nSELECT a, b FROM db.t WHERE b IN (?)\n) AS composed"
    assert composed.parameters == ("x",)


def test_a_cte_the_query_does_not_read_is_refused() -> None:
    with pytest.raises(SqlError, match=r"does not read db\.u"):
        compose(Statement("SELECT 1 FROM db.t"), [("u", Statement("SELECT 1"))], "db")
