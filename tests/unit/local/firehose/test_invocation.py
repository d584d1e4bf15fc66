"""The transform invoked as Firehose invokes it: retries, then the error output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glucosestream.settings import Settings
from tests.factories import trace
from tests.unit.local.firehose.delivery import (
    FakeStream,
    error_documents,
    pump,
    worker,
)


def failing_transform(failures: int) -> Callable[[dict[str, Any], Any], Any]:
    from consumers.firehose_transform.handler import lambda_handler

    calls = {"n": 0}

    def transform(event: dict[str, Any], context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise TimeoutError("Task timed out after 60.00 seconds")
        return lambda_handler(event, context)

    return transform


def test_a_failing_transform_is_retried_then_its_records_go_to_errors(
    settings: Settings,
) -> None:
    stream = FakeStream()
    stream.put_readings(trace(8, 3))
    w = worker(settings, stream, transform=failing_transform(10**6), transform_retries=2)
    pump(w, stream)
    w.flush(force=True)
    assert w.stats.invocations == 3
    errors = error_documents(settings)
    assert [e["errorCode"] for e in errors] == ["Lambda.FunctionError"] * 3
    assert errors[0]["attemptsMade"] == 3
    assert "TimeoutError" in errors[0]["errorMessage"]
    assert w.checkpoint("shardId-000000000000") == f"{3:030d}"


def test_a_transform_that_recovers_on_retry_loses_nothing(settings: Settings) -> None:
    stream = FakeStream()
    stream.put_readings(trace(8, 3))
    w = worker(settings, stream, transform=failing_transform(1))
    pump(w, stream)
    w.flush(force=True)
    assert (w.stats.rows_landed, w.stats.errors_landed, w.stats.invocations) == (3, 0, 2)


def test_a_response_with_missing_record_ids_fails_the_invocation(settings: Settings) -> None:
    stream = FakeStream()
    stream.put_readings(trace(9, 2))

    def forgetful(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"records": [{"recordId": event["records"][0]["recordId"], "result": "Ok"}]}

    w = worker(settings, stream, transform=forgetful, transform_retries=0)
    pump(w, stream)
    w.flush(force=True)
    assert [e["errorCode"] for e in error_documents(settings)] == ["Lambda.FunctionError"] * 2
    assert w.stats.rows_landed == 0
