"""The deployed pipeline state machine, run and waited for (botocore's Stubber)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from glucosestream.adapters.state_machine import StateMachineNotFound, StateMachineRunner

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:gs-dev-pipeline"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:gs-dev-pipeline:r1"
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def runner() -> tuple[StateMachineRunner, Stubber, list[float]]:
    client = boto3.client(
        "stepfunctions", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    waits: list[float] = []
    return StateMachineRunner(client, "gs-dev-pipeline", sleep=waits.append), Stubber(client), waits


def listed(stub: Stubber) -> None:
    stub.add_response(
        "list_state_machines",
        {"stateMachines": [
            {"stateMachineArn": ARN.replace("pipeline", "other"), "name": "gs-dev-other",
             "type": "STANDARD", "creationDate": NOW},
            {"stateMachineArn": ARN, "name": "gs-dev-pipeline", "type": "STANDARD",
             "creationDate": NOW},
        ]},
    )  # fmt: skip
    stub.add_response("start_execution", {"executionArn": EXECUTION, "startDate": NOW})


def described(status: str, **extra: object) -> dict[str, object]:
    return {"executionArn": EXECUTION, "stateMachineArn": ARN, "status": status,
            "startDate": NOW, "input": "{}", **extra}  # fmt: skip


def test_runs_to_success_with_backoff_and_returns_the_output() -> None:
    run, stub, waits = runner()
    listed(stub)
    for _ in range(4):
        stub.add_response("describe_execution", described("RUNNING"))
    output = {"plan": {"run_id": "r1"}, "record": {"status": "SUCCEEDED"}}
    stub.add_response("describe_execution", described("SUCCEEDED", output=json.dumps(output)))
    with stub:
        result = run.run({"full_refresh": False}, name="r1")
    assert (result.status, result.last_state) == ("SUCCEEDED", output)
    assert waits == [2.0, 4.0, 8.0, 15.0]


def test_a_failed_execution_gives_the_last_state_entered_and_the_cause() -> None:
    run, stub, _ = runner()
    listed(stub)
    cause = json.dumps({"QueryExecution": {"QueryExecutionId": "q-1", "Status": {
        "State": "FAILED", "StateChangeReason": "HIVE_BAD_DATA"}}})  # fmt: skip
    stub.add_response(
        "describe_execution", described("FAILED", error="States.TaskFailed", cause=cause)
    )
    entered = {"plan": {"run_id": "r1"}, "quality": {"passed": True}}
    stub.add_response(
        "get_execution_history",
        {"events": [
            {"timestamp": NOW, "type": "ExecutionFailed", "id": 9},
            {"timestamp": NOW, "type": "TaskStateEntered", "id": 8,
             "stateEnteredEventDetails": {"name": "Marts", "input": json.dumps(entered)}},
        ]},
    )  # fmt: skip
    with stub:
        result = run.run({})
    assert result.status == "FAILED"
    assert result.last_state == entered
    assert result.error == "States.TaskFailed"
    assert "HIVE_BAD_DATA" in (result.cause or "")


def test_a_missing_state_machine_is_named() -> None:
    run, stub, _ = runner()
    stub.add_response("list_state_machines", {"stateMachines": []})
    with stub, pytest.raises(StateMachineNotFound, match="no state machine named gs-dev-pipeline"):
        run.run({})


def test_a_run_that_outlasts_the_timeout_is_reported_not_waited_forever() -> None:
    run, stub, _ = runner()
    run.timeout_s = 5
    listed(stub)
    for _ in range(3):
        stub.add_response("describe_execution", described("RUNNING"))
    with stub, pytest.raises(TimeoutError, match="still running"):
        run.run({})
