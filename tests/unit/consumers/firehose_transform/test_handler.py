"""The Firehose transform Lambda: Avro in, JSON rows with dt/hour partition keys out."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from consumers.firehose_transform import handler
from glucosestream.contract.codec import default_codec
from glucosestream.lake.raw_zone import reading_columns
from glucosestream.local.lambda_runtime import LambdaContext
from tests.factories import START_MS, trace

EVENT = Path(__file__).parents[3] / "events" / "firehose_transform_readings.json"


def load_event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())


def context() -> LambdaContext:
    return LambdaContext(
        function_name="gs-t-firehose-transform",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:gs-t-firehose-transform",
        memory_limit_in_mb=256,
        aws_request_id="req-1",
        deadline_epoch_s=10**10,
    )


def rows(output: dict[str, Any]) -> list[dict[str, Any]]:
    text = base64.b64decode(output["data"]).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def reason(output: dict[str, Any]) -> dict[str, str]:
    parsed: dict[str, str] = json.loads(base64.b64decode(output["data"]))
    return parsed


@pytest.fixture(scope="module")
def response() -> dict[str, Any]:
    return handler.lambda_handler(load_event(), context())


def test_one_output_per_input_record_in_order(response: dict[str, Any]) -> None:
    event = load_event()
    assert [o["recordId"] for o in response["records"]] == [r["recordId"] for r in event["records"]]
    assert [o["result"] for o in response["records"]] == [
        "Ok",
        "Ok",
        "Ok",
        "Ok",
        "ProcessingFailed",
        "ProcessingFailed",
        "ProcessingFailed",
    ]


def test_a_reading_becomes_one_json_row_field_by_field(response: dict[str, Any]) -> None:
    expected = trace(7, 1)[0]
    (row,) = rows(response["records"][0])
    assert list(row) == [c.name for c in reading_columns()]
    assert row == {
        "event_id": expected.event_id,
        "patient_id": expected.patient_id,
        "device_id": expected.device_id,
        "session_id": expected.session_id,
        "measured_at": START_MS,
        "utc_offset_minutes": 60,
        "glucose_mg_dl": expected.glucose_mg_dl,
        "status": "OK",
        "trend": "FLAT",
        "source": "CGM",
        "produced_at": START_MS + 3_000,
        "ingested_at": START_MS + 600_000,
    }
    # Exact JSON types: Hive's JSON SerDe reads timestamps as epoch-millisecond numbers.
    for column in reading_columns():
        python_type = str if column.glue_type == "string" else int
        assert type(row[column.name]) is python_type, column.name
    assert response["records"][0]["metadata"] == {
        "partitionKeys": {"dt": "2026-01-05", "hour": "00"}
    }


def test_an_aggregate_within_one_hour_is_one_record_of_json_lines(
    response: dict[str, Any],
) -> None:
    output = response["records"][3]
    assert [r["measured_at"] for r in rows(output)] == [
        START_MS + minutes * 60_000 for minutes in (15, 20, 25)
    ]
    assert output["metadata"]["partitionKeys"] == {"dt": "2026-01-05", "hour": "00"}


def test_an_aggregate_spanning_hours_fails_with_its_reason(response: dict[str, Any]) -> None:
    failure = reason(response["records"][4])
    assert failure["errorKind"] == "partition"
    assert "spans 2 dt/hour partitions" in failure["errorMessage"]


def test_garbage_fails_with_the_codec_reason(response: dict[str, Any]) -> None:
    assert reason(response["records"][5]) == {
        "errorKind": "avro",
        "errorMessage": "wrong magic 6e6f: not Avro single-object encoding",
    }


def test_a_contract_violation_fails_without_quoting_the_glucose_value(
    response: dict[str, Any],
) -> None:
    failure = reason(response["records"][6])
    assert failure["errorKind"] == "contract"
    assert "outside the sensor range" in failure["errorMessage"]
    assert "512" not in failure["errorMessage"]


def test_records_at_hour_boundaries_take_the_hour_of_their_measured_at() -> None:
    codec = default_codec()
    last, first = trace(3, 2, start_ms=START_MS + 3_600_000 - 60_000 * 5)
    event = {
        "records": [
            {"recordId": str(i), "data": base64.b64encode(codec.encode(r.to_record())).decode()}
            for i, r in enumerate((last, first))
        ]
    }
    outputs = handler.handle(event)["records"]
    assert [o["metadata"]["partitionKeys"]["hour"] for o in outputs] == ["00", "01"]


def test_invalid_base64_is_a_processing_failure_not_an_exception() -> None:
    output = handler.handle({"records": [{"recordId": "x", "data": "***"}]})["records"][0]
    assert output["result"] == "ProcessingFailed"
    assert reason(output)["errorKind"] == "base64"


def test_logs_name_failures_but_never_glucose_values(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        handler.lambda_handler(load_event(), context())
    summary = [r for r in caplog.records if r.getMessage() == "records failed the transform"]
    assert [r.__dict__["failed"] for r in summary] == [3]
    assert summary[0].__dict__["kinds"] == {"partition": 1, "avro": 1, "contract": 1}
    # What the handler logged: the message and its extra fields, not the LogRecord's own
    # attributes (process id, milliseconds... could contain "512" by chance).
    standard = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)
    logged = " ".join(
        f"{r.getMessage()} {[v for k, v in r.__dict__.items() if k not in standard]}"
        for r in caplog.records
    )
    assert "512" not in logged
    assert "glucose_mg_dl" not in logged
