"""LocalAthena as the state machine's ``athena:startQueryExecution.sync``: UNLOAD and queries."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from glucosestream.local.athena import (
    LakeTable,
    LocalAthena,
    SqlError,
    _projected_values,
    parse_unload,
)

LOCATION = "s3://gs-test-lake/curated/readings/.staging-r1-000/"


def test_unload_is_parsed_into_its_query_location_and_properties() -> None:
    unload = parse_unload(
        "UNLOAD (SELECT a, b, dt FROM db.t WHERE dt IN (?, ?)) "
        f"TO '{LOCATION}' WITH (format = 'PARQUET', compression = 'ZSTD', "
        "partitioned_by = ARRAY['dt'])"
    )
    assert unload.location == LOCATION
    assert (unload.format, unload.compression, unload.partitioned_by) == (
        "PARQUET",
        "ZSTD",
        ("dt",),
    )
    assert [c.alias_or_name for c in unload.query.selects] == ["a", "b", "dt"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UNLOAD (SELECT a FROM t) TO 's3://bkt/x/' WITH (format = 'JSON')", "only format"),
        ("UNLOAD (SELECT dt, a FROM t) TO 's3://bkt/x/' WITH (format = 'PARQUET', "
         "partitioned_by = ARRAY['dt'])", "last columns"),
        ("UNLOAD (SELECT a FROM t) TO '/tmp/x/' WITH (format = 'PARQUET')", "s3://"),
        ("UNLOAD (SELECT a FROM t TO 's3://bkt/x/' WITH (format = 'PARQUET')", "parenthes"),
        ("UNLOAD (SELECT a FROM t) TO 's3://bkt/x/' WITH (format = 'PARQUET', x = 'y')",
         "unsupported properties"),
        ("SELECT 1", "not an UNLOAD"),
    ],
)  # fmt: skip
def test_a_malformed_unload_is_refused_with_the_reason(statement: str, message: str) -> None:
    with pytest.raises(SqlError, match=message):
        parse_unload(statement)


@pytest.fixture
def engine(tmp_path: Path) -> LocalAthena:
    made = LocalAthena("gs_test_lake")
    made.register(
        "events",
        pa.table(
            {"v": [1, 2, 3, 4], "dt": ["2024-03-01", "2024-03-01", "2024-03-02", "2024-03-03"]}
        ),
    )
    return made


def test_unload_writes_hive_partitions_of_the_selected_rows(
    engine: LocalAthena, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    response = engine.start_query_execution(
        f"UNLOAD (SELECT v, dt FROM gs_test_lake.events WHERE dt IN (?, ?)) TO '{LOCATION}' "
        "WITH (format = 'PARQUET', compression = 'ZSTD', partitioned_by = ARRAY['dt'])",
        ["'2024-03-01'", "'2024-03-02'"],  # Athena's ExecutionParameters: SQL literal text
        location_of=lambda uri: target,
    )
    execution = response["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Statistics"]["RowsWritten"] == 3
    assert sorted(p.name for p in target.iterdir()) == ["dt=2024-03-01", "dt=2024-03-02"]
    rows = duckdb.sql(
        "SELECT v, CAST(dt AS VARCHAR) FROM "
        f"read_parquet('{target}/*/*.parquet', hive_partitioning = true) ORDER BY v"
    ).fetchall()
    assert rows == [(1, "2024-03-01"), (2, "2024-03-01"), (3, "2024-03-02")]


def test_unload_refuses_a_location_that_is_not_empty(engine: LocalAthena, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "earlier.parquet").write_bytes(b"x")
    with pytest.raises(SqlError, match="not empty"):
        engine.start_query_execution(
            f"UNLOAD (SELECT v FROM gs_test_lake.events) TO '{LOCATION}' WITH (format = 'PARQUET')",
            location_of=lambda uri: target,
        )


def test_a_query_keeps_its_rows_for_the_results(engine: LocalAthena, tmp_path: Path) -> None:
    response = engine.start_query_execution(
        "SELECT sum(v) AS total FROM gs_test_lake.events WHERE dt = ?",
        ["'2024-03-01'"],
        location_of=lambda uri: tmp_path,
    )
    execution = response["QueryExecution"]
    assert engine.results[execution["QueryExecutionId"]].to_pylist() == [{"total": 3}]
    with pytest.raises(SqlError, match="only UNLOAD and queries"):
        engine.start_query_execution(
            "DROP TABLE gs_test_lake.events", location_of=lambda uri: tmp_path
        )


@pytest.mark.parametrize(
    ("where", "parameters", "expected"),
    [
        ("dt IN (?, ?) AND v > 0", ["2024-03-01", "2024-03-02"], ["2024-03-01", "2024-03-02"]),
        ("dt = '2024-03-03'", [], ["2024-03-03"]),
        ("dt = ? OR v = 1", ["2024-03-01"], None),  # under an OR: read everything
        ("v > 0", [], None),
    ],
)
def test_partition_projection_reads_only_the_partitions_of_the_predicate(
    where: str, parameters: list[str], expected: list[str] | None
) -> None:
    statement = sqlglot.parse_one(f"SELECT v FROM db.t WHERE {where}", read="athena")
    assert isinstance(statement, exp.Query)
    assert _projected_values(statement, "dt", parameters) == expected


def test_a_projected_query_lists_only_its_partition_directories(tmp_path: Path) -> None:
    engine = LocalAthena("gs_test_lake")
    lake = tmp_path / "lake"
    for dt, hour in [("2024-03-01", "00"), ("2024-03-02", "05")]:
        directory = lake / f"dt={dt}" / f"hour={hour}"
        directory.mkdir(parents=True)
        pq.write_table(pa.table({"v": [int(hour)]}), directory / "f.parquet")
    engine.lake_tables["t"] = LakeTable(
        "t", lake, (("v", "BIGINT"),), (("dt", "VARCHAR"), ("hour", "VARCHAR"))
    )
    result = engine.start_query_execution(
        "SELECT v, hour FROM gs_test_lake.t WHERE dt = ?", ["'2024-03-02'"],
        location_of=lambda uri: tmp_path,
    )  # fmt: skip
    rows = engine.results[result["QueryExecution"]["QueryExecutionId"]].to_pylist()
    assert rows == [{"v": 5, "hour": "05"}]
    # The binding itself holds only the projected partition's file.
    files = engine.connection.sql("SELECT count(*) FROM gs_test_lake.t").fetchall()
    assert files == [(1,)]


def test_execution_parameters_are_literals_as_athena_takes_them(
    engine: LocalAthena, tmp_path: Path
) -> None:
    def total(parameter: str) -> object:
        response = engine.start_query_execution(
            "SELECT count(*) AS n FROM gs_test_lake.events WHERE dt = ? OR v = 99",
            [parameter],
            location_of=lambda uri: tmp_path,
        )
        return engine.results[response["QueryExecution"]["QueryExecutionId"]].to_pylist()

    assert total("'2024-03-01'") == [{"n": 2}]
    with pytest.raises(SqlError, match="not a string, number, date or timestamp"):
        total("2024-03-01")  # unquoted: Athena would read 2024 - 3 - 1
    with pytest.raises(SqlError, match="not a string, number, date or timestamp"):
        total("'x' OR TRUE --'")


def test_parameters_bind_in_text_order_whatever_the_tree_order() -> None:
    # A WITH clause comes first in the text (and takes the first parameters) but a walk of the
    # tree reaches it after the outer query's WHERE.
    statement = sqlglot.parse_one(
        "WITH r AS (SELECT v FROM db.t WHERE dt IN (?, ?)) SELECT v FROM r WHERE v IN (?)",
        read="athena",
    )
    assert isinstance(statement, exp.Query)
    values = ["2024-03-01", "2024-03-02", "7"]
    assert _projected_values(statement, "dt", values) == ["2024-03-01", "2024-03-02"]
