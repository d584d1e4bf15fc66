"""The Athena adapter against botocore's Stubber: requests as Athena expects them, responses as
Athena sends them (multi-page results, every failure path)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from glucosestream.adapters.athena import (
    AthenaAccessDenied,
    AthenaQueryEngine,
    Backoff,
    QueryRejected,
    athena_literal,
    athena_value,
)
from glucosestream.warehouse.query_engine import QueryFailed

DATABASE = "gs_prod_lake"
WORKGROUP = "gs-prod-workgroup"
QUERY_ID = "4f0c2a52-3b8e-4d55-9d2b-8a1e5f6c7d90"
SUBMITTED = datetime(2026, 2, 1, 6, 0, 0, tzinfo=UTC)

COLUMNS = [
    ("patient_id", "varchar"),
    ("n_readings", "bigint"),
    ("slot", "integer"),
    ("tir_70_180", "double"),
    ("counts_in_metrics", "boolean"),
    ("period_end", "date"),
    ("measured_at", "timestamp"),
    ("dose", "decimal"),
]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def engine(**options: Any) -> tuple[AthenaQueryEngine, Stubber, Sleeps]:
    client = boto3.client(
        "athena", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sleeps = Sleeps()
    made = AthenaQueryEngine(
        client, database=DATABASE, workgroup=WORKGROUP, sleep=sleeps, **options
    )
    return made, Stubber(client), sleeps


def execution(
    state: str,
    *,
    reason: str | None = None,
    substatement: str = "SELECT",
    statement: str = "DML",
    scanned: int = 0,
) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state, "SubmissionDateTime": SUBMITTED}
    if reason is not None:
        status["StateChangeReason"] = reason
    return {
        "QueryExecution": {
            "QueryExecutionId": QUERY_ID,
            "Query": "SELECT …",
            "StatementType": statement,
            "SubstatementType": substatement,
            "ResultConfiguration": {
                "OutputLocation": f"s3://gs-prod-athena-results/{QUERY_ID}.csv"
            },
            "QueryExecutionContext": {"Database": DATABASE, "Catalog": "awsdatacatalog"},
            "Status": status,
            "Statistics": {"DataScannedInBytes": scanned, "EngineExecutionTimeInMillis": 812},
            "WorkGroup": WORKGROUP,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "v3"},
        }
    }


def page(rows: list[list[str | None]], *, header: bool, token: str | None = None) -> dict[str, Any]:
    data = [[{"VarCharValue": name} for name, _ in COLUMNS]] if header else []
    data += [[{} if value is None else {"VarCharValue": value} for value in row] for row in rows]
    response: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {
            "Rows": [{"Data": cells} for cells in data],
            "ResultSetMetadata": {
                "ColumnInfo": [
                    {
                        "CatalogName": "hive",
                        "SchemaName": "",
                        "TableName": "",
                        "Name": name,
                        "Label": name,
                        "Type": kind,
                        "Precision": 10 if kind == "decimal" else 0,
                        "Scale": 2 if kind == "decimal" else 0,
                        "Nullable": "UNKNOWN",
                        "CaseSensitive": kind == "varchar",
                    }
                    for name, kind in COLUMNS
                ]
            },
        },
    }
    if token is not None:
        response["NextToken"] = token
    return response


ROW_1 = ["p_7f3a", "288", "12", "71.52", "true", "2026-02-01", "2026-02-01 06:05:00.123", "1.25"]
ROW_2 = ["p_81c0", "0", "13", None, "false", "2026-02-01", None, None]
ROW_3 = [
    "p_9d4e", "9007199254740993", "14", "1.0E-5", "true", "2026-01-31", "2026-01-31 23:55:00.000",
    "-3.10",
]  # fmt: skip


def test_a_select_is_started_polled_with_backoff_and_read_over_every_page() -> None:
    athena, stub, sleeps = engine(poll=Backoff(first_s=0.1, factor=2.0, cap_s=0.3))
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": QUERY_ID},
        {
            "QueryString": f"SELECT * FROM {DATABASE}.patient_period_metrics "
            "WHERE patient_id = ? AND period_end = ? AND local_time >= ? AND n_readings > ?",
            "QueryExecutionContext": {"Database": DATABASE},
            "WorkGroup": WORKGROUP,
            "ExecutionParameters": [
                "'p_7f3a'",
                "DATE '2026-02-01'",
                "TIMESTAMP '2026-02-01 06:00:00.000'",
                "10",
            ],
        },
    )
    for state in ("QUEUED", "RUNNING", "RUNNING", "RUNNING"):
        stub.add_response("get_query_execution", execution(state), {"QueryExecutionId": QUERY_ID})
    stub.add_response(
        "get_query_execution",
        execution("SUCCEEDED", scanned=48_213),
        {"QueryExecutionId": QUERY_ID},
    )
    stub.add_response(
        "get_query_results", page([ROW_1], header=True, token="t-2"), {"QueryExecutionId": QUERY_ID}
    )
    stub.add_response(
        "get_query_results",
        page([ROW_2], header=False, token="t-3"),
        {"QueryExecutionId": QUERY_ID, "NextToken": "t-2"},
    )
    stub.add_response(
        "get_query_results",
        page([ROW_3], header=False),
        {"QueryExecutionId": QUERY_ID, "NextToken": "t-3"},
    )
    with stub:
        result = athena.execute(
            f"SELECT * FROM {DATABASE}.patient_period_metrics "
            "WHERE patient_id = ? AND period_end = ? AND local_time >= ? AND n_readings > ?",
            ["p_7f3a", date(2026, 2, 1), datetime(2026, 2, 1, 6), 10],
        )
    stub.assert_no_pending_responses()
    assert sleeps == [0.1, 0.2, 0.3, 0.3]  # doubled, then capped
    assert result.query_id == QUERY_ID
    assert result.data_scanned_bytes == 48_213
    assert result.columns == {
        "patient_id": ["p_7f3a", "p_81c0", "p_9d4e"],
        "n_readings": [288, 0, 9007199254740993],
        "slot": [12, 13, 14],
        "tir_70_180": [71.52, None, 1.0e-5],
        "counts_in_metrics": [True, False, True],
        "period_end": [date(2026, 2, 1), date(2026, 2, 1), date(2026, 1, 31)],
        "measured_at": [
            datetime(2026, 2, 1, 6, 5, 0, 123000),
            None,
            datetime(2026, 1, 31, 23, 55),
        ],
        "dose": [Decimal("1.25"), None, Decimal("-3.10")],
    }


def test_an_unload_is_not_asked_for_rows_and_the_output_location_is_sent() -> None:
    athena, stub, _ = engine(output_location="s3://gs-prod-athena-results/elt/")
    sql = (
        f"UNLOAD (SELECT * FROM {DATABASE}.curated_readings WHERE dt = ?) "
        "TO 's3://gs-prod-lake/exports/x/' WITH (format = 'PARQUET')"
    )
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": QUERY_ID},
        {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": DATABASE},
            "WorkGroup": WORKGROUP,
            "ExecutionParameters": ["'2026-02-01'"],
            "ResultConfiguration": {"OutputLocation": "s3://gs-prod-athena-results/elt/"},
        },
    )
    stub.add_response(
        "get_query_execution", execution("SUCCEEDED", substatement="UNLOAD", scanned=1_024)
    )
    with stub:
        result = athena.execute(sql, ["2026-02-01"])
    stub.assert_no_pending_responses()
    assert (result.columns, result.data_scanned_bytes) == ({}, 1_024)


def test_ddl_results_have_no_header_row() -> None:
    athena, stub, _ = engine()
    stub.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
    stub.add_response(
        "get_query_execution", execution("SUCCEEDED", statement="UTILITY", substatement="SHOW")
    )
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": "agp_profile"}]}],
                "ResultSetMetadata": {"ColumnInfo": [{"Name": "tab_name", "Type": "string"}]},
            }
        },
    )
    with stub:
        result = athena.execute(f"SHOW TABLES IN {DATABASE}")
    assert result.columns == {"tab_name": ["agp_profile"]}


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("FAILED",
         "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.gs_prod_lake.x' does not exist"),
        ("CANCELLED", "Query cancelled by user"),
    ],
)  # fmt: skip
def test_a_query_that_fails_or_is_cancelled_raises_with_its_id_and_reason(
    state: str, reason: str
) -> None:
    athena, stub, _ = engine()
    stub.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
    stub.add_response("get_query_execution", execution("RUNNING"))
    stub.add_response("get_query_execution", execution(state, reason=reason))
    with stub, pytest.raises(QueryFailed) as raised:
        athena.execute("SELECT * FROM x")
    assert (raised.value.query_id, raised.value.state, raised.value.reason) == (
        QUERY_ID,
        state,
        reason,
    )
    assert QUERY_ID in str(raised.value)
    assert reason in str(raised.value)


def test_a_query_past_the_timeout_is_stopped_and_reported() -> None:
    athena, stub, sleeps = engine(timeout_s=1.0, poll=Backoff(first_s=0.4, factor=2.0, cap_s=5))
    stub.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
    for _ in range(3):
        stub.add_response("get_query_execution", execution("RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": QUERY_ID})
    with stub, pytest.raises(QueryFailed, match="still RUNNING after 1 s") as raised:
        athena.execute("SELECT count(*) FROM gs_prod_lake.raw_readings")
    stub.assert_no_pending_responses()
    assert raised.value.query_id == QUERY_ID
    assert raised.value.state == "TIMED OUT"
    assert sleeps == [0.4, 0.6]  # the last wait is cut to the limit


def test_throttled_starts_are_retried_with_backoff() -> None:
    athena, stub, sleeps = engine(throttle=Backoff(first_s=0.5, factor=2.0, cap_s=8.0))
    for _ in range(2):
        stub.add_client_error(
            "start_query_execution", "TooManyRequestsException", "Rate exceeded", 400
        )
    stub.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
    with stub:
        assert athena.start("SELECT 1") == QUERY_ID
    stub.assert_no_pending_responses()
    assert sleeps == [0.5, 1.0]


def test_throttling_beyond_the_attempts_is_a_rejection() -> None:
    athena, stub, sleeps = engine(start_attempts=3)
    for _ in range(3):
        stub.add_client_error(
            "start_query_execution", "TooManyRequestsException", "Rate exceeded", 400
        )
    with stub, pytest.raises(QueryRejected, match=r"Rate exceeded \(throttled 3 times\)") as raised:
        athena.execute("SELECT 1")
    assert raised.value.code == "TooManyRequestsException"
    assert len(sleeps) == 2


def test_a_request_athena_refuses_is_a_rejection_without_a_query_id() -> None:
    athena, stub, sleeps = engine()
    stub.add_client_error(
        "start_query_execution",
        "InvalidRequestException",
        f"WorkGroup {WORKGROUP} is not found.",
        400,
    )
    with stub, pytest.raises(QueryRejected, match="is not found") as raised:
        athena.execute("SELECT 1")
    assert isinstance(raised.value, QueryFailed)
    assert raised.value.state == "REJECTED"
    assert sleeps == []  # not retried


def test_access_denied_on_the_results_bucket_names_bucket_and_prefix() -> None:
    athena, stub, _ = engine()
    stub.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
    stub.add_response("get_query_execution", execution("SUCCEEDED"))
    stub.add_client_error(
        "get_query_results",
        "AccessDeniedException",
        "Access denied when reading the query results from "
        f"s3://gs-prod-athena-results/dashboard/{QUERY_ID}.csv. Check your permissions.",
        400,
    )
    with stub, pytest.raises(AthenaAccessDenied) as raised:
        athena.execute("SELECT 1")
    assert raised.value.bucket == "gs-prod-athena-results"
    assert raised.value.prefix == f"dashboard/{QUERY_ID}.csv"
    assert str(raised.value).startswith(
        f"access denied to s3://gs-prod-athena-results/dashboard/{QUERY_ID}.csv "
        f"(athena:GetQueryResults in workgroup {WORKGROUP})"
    )


def test_access_denied_without_a_location_names_the_action() -> None:
    athena, stub, _ = engine()
    stub.add_client_error(
        "start_query_execution",
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/gs-prod-dashboard/x is not authorized to "
        "perform: athena:StartQueryExecution on resource: "
        f"arn:aws:athena:eu-west-1:123456789012:workgroup/{WORKGROUP}",
        400,
    )
    with stub, pytest.raises(AthenaAccessDenied, match="access denied to Athena") as raised:
        athena.execute("SELECT 1")
    assert raised.value.bucket is None


def test_literals_are_typed_and_quoted() -> None:
    assert athena_literal("o'brien") == "'o''brien'"
    assert athena_literal(date(2026, 1, 2)) == "DATE '2026-01-02'"
    assert athena_literal(datetime(2026, 1, 2, 3, 4)) == "TIMESTAMP '2026-01-02 03:04:00.000'"
    assert athena_literal(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == (
        "TIMESTAMP '2026-01-02 03:04:00.000'"
    )
    assert [athena_literal(v) for v in (5, -2, 0.25, True)] == ["5", "-2", "0.25", "true"]


def test_values_follow_their_column_type() -> None:
    assert athena_value("2026-02-01 06:05:00.000 UTC", "timestamp with time zone") == datetime(
        2026, 2, 1, 6, 5, tzinfo=UTC
    )
    assert athena_value("12.50", "decimal(10,2)") == Decimal("12.50")
    assert athena_value("[1, 2]", "array(integer)") == "[1, 2]"
    assert athena_value(None, "integer") is None
    assert athena_value("NaN", "double") != athena_value("NaN", "double")  # NaN, not text
