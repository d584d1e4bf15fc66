"""The query adapter against Athena, through a stubbed client (over DuckDB and the simulated
lake: ``tests/component/dashboard/test_queries.py``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from glucosestream.dashboard.queries import (
    COHORT,
    AthenaEngine,
    LakeQueries,
    QueryError,
    athena_literal,
)
from glucosestream.settings import load_settings

# ------------------------------------------------------------------------------------ Athena


def athena() -> tuple[AthenaEngine, Stubber]:
    client = boto3.client(
        "athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    settings = load_settings(env="prod", mode="aws", pseudonym_key="k" * 32)
    return AthenaEngine(client, settings, poll_s=0.01, sleep=lambda _: None), Stubber(client)


def results(
    rows: list[list[str | None]], token: str | None = None, header: bool = True
) -> dict[str, Any]:
    names = ["patient_id", "period_end", "tir_70_180"]
    data = ([[{"VarCharValue": n} for n in names]] if header else []) + [
        [{"VarCharValue": v} if v is not None else {} for v in row] for row in rows
    ]
    response: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": d} for d in data],
            "ResultSetMetadata": {
                "ColumnInfo": [
                    {"Name": "patient_id", "Type": "varchar"},
                    {"Name": "period_end", "Type": "date"},
                    {"Name": "tir_70_180", "Type": "double"},
                ]
            },
        }
    }
    if token:
        response["NextToken"] = token
    return response


def test_athena_runs_parameters_polls_and_pages() -> None:
    engine, stub = athena()
    end, previous = date(2026, 2, 1), date(2026, 1, 18)
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": COHORT.sql.replace("${database}", "gs_prod_lake"),
            "QueryExecutionContext": {"Database": "gs_prod_lake"},
            "WorkGroup": "gs-prod-workgroup",
            "ExecutionParameters": ["DATE '2026-01-18'", "DATE '2026-02-01'"],
        },
    )
    for state in ("QUEUED", "RUNNING", "SUCCEEDED"):
        stub.add_response(
            "get_query_execution",
            {"QueryExecution": {"Status": {"State": state}}},
            {"QueryExecutionId": "q1"},
        )
    stub.add_response(
        "get_query_results",
        results([["p1", "2026-02-01", "71.5"]], "t2"),
        {"QueryExecutionId": "q1"},
    )
    stub.add_response(
        "get_query_results",
        results([["p2", "2026-02-01", None]], header=False),
        {"QueryExecutionId": "q1", "NextToken": "t2"},
    )
    with stub:
        found = LakeQueries(engine).cohort(end)
    stub.assert_no_pending_responses()
    assert found == {
        "patient_id": ["p1", "p2"],
        "period_end": [end, end],
        "tir_70_180": [71.5, None],
    }
    assert previous == end - timedelta(days=14)


def test_athena_failure_is_reported() -> None:
    engine, stub = athena()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q2"})
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND"}}},
    )
    with stub, pytest.raises(QueryError, match="failed: TABLE_NOT_FOUND"):
        LakeQueries(engine).periods()


def test_athena_literals_are_typed_and_quoted() -> None:
    assert athena_literal("o'brien") == "'o''brien'"
    assert athena_literal(date(2026, 1, 2)) == "DATE '2026-01-02'"
    assert athena_literal(datetime(2026, 1, 2, 3, 4)) == "TIMESTAMP '2026-01-02 03:04:00.000'"
    assert athena_literal(5) == "5"
