"""The local Athena API's pieces without a server: parameter binding, partition projection,
value rendering, the execution states and both wire protocols."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from werkzeug.test import Client

from glucosestream.local.athena_api import (
    Execution,
    LocalAthenaApi,
    QueryError,
    athena_text,
    athena_type,
    bind_parameters,
    projection_accepts,
)

# ------------------------------------------------------------------------- parameter binding


def test_each_placeholder_takes_its_parameter_in_order() -> None:
    bound = bind_parameters(
        "SELECT '?' AS q FROM t -- ?\nWHERE a = ? AND b IN (?, ?) AND c >= ?",
        ["'x''y'", "DATE '2026-02-01'", "-3", "TIMESTAMP '2026-02-01 06:00:00.000'"],
    )
    assert bound == (
        "SELECT '?' AS q FROM t -- ?\nWHERE a = 'x''y' AND b IN (DATE '2026-02-01', -3) "
        "AND c >= TIMESTAMP '2026-02-01 06:00:00.000'"
    )


def test_an_unload_binds_the_placeholders_of_its_query() -> None:
    bound = bind_parameters(
        "UNLOAD (SELECT a FROM t WHERE dt IN (?, ?)) TO 's3://b/p/' WITH (format = 'PARQUET')",
        ["'2026-01-01'", "'2026-01-02'"],
    )
    assert "dt IN ('2026-01-01', '2026-01-02')" in bound


def test_an_expression_parameter_keeps_its_meaning() -> None:
    assert bind_parameters("SELECT ? * 2", ["1 + 1"]) == "SELECT (1 + 1) * 2"


@pytest.mark.parametrize(
    ("sql", "parameters", "message"),
    [
        ("SELECT ? + ?", ["1"], "Incorrect number of parameters: expected 2 but found 1"),
        ("SELECT 1", ["1"], "Incorrect number of parameters: expected 0 but found 1"),
        ("SELECT ?", ["patient_id"], "not a constant expression"),
        ("SELECT ?", ["(SELECT 1)"], "not a constant expression"),
        ("SELECT ?", ["'unterminated"], "SYNTAX_ERROR"),
    ],
)
def test_parameters_athena_would_refuse_are_refused(
    sql: str, parameters: list[str], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        bind_parameters(sql, parameters)


# ---------------------------------------------------------------------- partition projection

PROJECTION = {
    "projection.enabled": "true",
    "projection.dt.type": "date",
    "projection.dt.format": "yyyy-MM-dd",
    "projection.dt.range": "2024-01-01,NOW",
    "projection.hour.type": "integer",
    "projection.hour.range": "0,23",
    "projection.hour.digits": "2",
    "projection.kind.type": "enum",
    "projection.kind.values": "hypo,hyper",
}


@pytest.mark.parametrize(
    ("key", "value", "read"),
    [
        ("dt", "2026-02-01", True),
        ("dt", "2024-01-01", True),
        ("dt", "2023-12-31", False),  # before the range
        ("dt", "2026-02-02", False),  # after NOW
        ("dt", "2026-2-01", False),  # not the format
        ("hour", "07", True),
        ("hour", "7", False),  # two digits
        ("hour", "24", False),
        ("kind", "hyper", True),
        ("kind", "other", False),
    ],
)
def test_projection_reads_only_the_values_it_would_generate(
    key: str, value: str, read: bool
) -> None:
    assert projection_accepts(PROJECTION, key, value, today=date(2026, 2, 1)) is read


# --------------------------------------------------------------------------- rendering values


def test_values_are_rendered_as_athena_renders_them() -> None:
    rendered = [
        athena_text(v)
        for v in (
            None,
            True,
            42,
            71.5,
            float("nan"),
            Decimal("1.10"),
            date(2026, 2, 1),
            datetime(2026, 2, 1, 6, 5, 0, 123456),
            datetime(2026, 2, 1, 6, 5, tzinfo=UTC),
            [1, None],
        )
    ]
    assert rendered == [
        None,
        "true",
        "42",
        "71.5",
        "NaN",
        "1.10",
        "2026-02-01",
        "2026-02-01 06:05:00.123",
        "2026-02-01 06:05:00.000 UTC",
        "[1, None]",
    ]


def test_column_types_are_athena_type_names() -> None:
    types = [pa.int32(), pa.int64(), pa.float64(), pa.string(), pa.date32(), pa.timestamp("us")]
    assert [athena_type(t) for t in types] == [
        "integer",
        "bigint",
        "double",
        "varchar",
        "date",
        "timestamp",
    ]
    assert athena_type(pa.decimal128(10, 2)) == "decimal"
    assert athena_type(pa.timestamp("us", tz="UTC")) == "timestamp with time zone"


# ------------------------------------------------------------------- states and the protocols


@pytest.fixture
def api(tmp_path: Path) -> LocalAthenaApi:
    # Never started and never calling moto: these tests drive its parts directly.
    return LocalAthenaApi("http://127.0.0.1:9", cache_dir=tmp_path)


def planted(api: LocalAthenaApi) -> Execution:
    execution = Execution(
        query_id="0b1c2d3e-0000-4000-8000-000000000001",
        query="SELECT 1",
        database="gs_test_lake",
        workgroup="gs-test-workgroup",
        output_location="s3://gs-test-athena-results/",
        parameters=(),
        bytes_scanned_cutoff=None,
    )
    api._executions[execution.query_id] = execution
    return execution


def test_a_query_goes_queued_running_succeeded(
    api: LocalAthenaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = planted(api)
    release, running = threading.Event(), threading.Event()

    def run(execution: Execution) -> None:
        running.set()
        release.wait(10)
        execution.header = [{"Name": "n", "Type": "integer"}]
        execution.rows = [["1"]]

    monkeypatch.setattr(api._runner, "run", run)
    assert execution.state == "QUEUED"
    worker = threading.Thread(target=api._work, args=(execution,))
    worker.start()
    assert running.wait(10)
    assert execution.state == "RUNNING"
    release.set()
    worker.join(10)
    assert execution.state == "SUCCEEDED"
    described = execution.describe()
    assert described["Status"]["State"] == "SUCCEEDED"
    assert described["ResultConfiguration"]["OutputLocation"] == (
        f"s3://gs-test-athena-results/{execution.query_id}.csv"
    )


def test_a_stopped_query_stays_cancelled_whatever_its_worker_finishes_with(
    api: LocalAthenaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = planted(api)
    release, running = threading.Event(), threading.Event()

    def run(execution: Execution) -> None:
        running.set()
        release.wait(10)

    monkeypatch.setattr(api._runner, "run", run)
    worker = threading.Thread(target=api._work, args=(execution,))
    worker.start()
    assert running.wait(10)
    api.stop_query_execution({"QueryExecutionId": execution.query_id})
    release.set()
    worker.join(10)
    assert (execution.state, execution.reason) == ("CANCELLED", "Query cancelled by user")


def test_a_failing_query_records_athenas_reason(
    api: LocalAthenaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = planted(api)

    def run(execution: Execution) -> None:
        raise QueryError("TABLE_NOT_FOUND", "line 1:15: Table 'x' does not exist")

    monkeypatch.setattr(api._runner, "run", run)
    api._work(execution)
    status = execution.describe()["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"] == "TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist"
    assert status["AthenaError"]["ErrorCategory"] == 2


def test_both_wire_protocols_reach_the_same_operation(api: LocalAthenaApi) -> None:
    execution = planted(api)
    execution.state = "SUCCEEDED"
    execution.header = [{"Name": "n", "Type": "integer"}]
    execution.rows = [[str(n)] for n in range(5)]
    client = Client(api._application)

    rest = client.get(f"/query-executions/{execution.query_id}/results?MaxResults=4")
    json_11 = client.post(
        "/",
        data=json.dumps({"QueryExecutionId": execution.query_id, "MaxResults": 4}),
        headers={"X-Amz-Target": "AmazonAthena.GetQueryResults"},
        content_type="application/x-amz-json-1.1",
    )
    assert rest.status_code == json_11.status_code == 200
    first: dict[str, Any] = json.loads(rest.data)
    assert first == json.loads(json_11.data)
    assert [row["Data"][0]["VarCharValue"] for row in first["ResultSet"]["Rows"]] == [
        "n",
        "0",
        "1",
        "2",
    ]
    second_response = client.get(
        f"/query-executions/{execution.query_id}/results",
        query_string={"NextToken": first["NextToken"], "MaxResults": "4"},
    )
    second = json.loads(second_response.data)
    assert [row["Data"][0]["VarCharValue"] for row in second["ResultSet"]["Rows"]] == ["3", "4"]
    assert "NextToken" not in second


def test_errors_come_back_in_athenas_error_shape(api: LocalAthenaApi) -> None:
    client = Client(api._application)
    missing = client.get("/query-executions/no-such-id")
    assert missing.status_code == 400
    assert missing.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert json.loads(missing.data)["Message"] == "QueryExecution no-such-id was not found"
    unknown = client.post("/", data="{}", headers={"X-Amz-Target": "AmazonAthena.DeleteEverything"})
    assert json.loads(unknown.data)["__type"] == "UnknownOperationException"
    execution = planted(api)
    early = client.get(f"/query-executions/{execution.query_id}/results")
    assert json.loads(early.data)["Message"] == "Query has not yet finished. Current state: QUEUED"
