"""The interpreter: I/O processing, Retry/Catch, Fail/Succeed/Wait, Map, history."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from glucosestream.local.stepfunctions import StateMachine, StatesError
from tests.support.clock import FakeClock
from tests.unit.local.stepfunctions.asl import (
    T0,
    Boom,
    TimeoutLike,
    machine,
    single_task,
)

# --------------------------------------------------------------------------- I/O processing


def test_input_parameters_result_selector_result_path_output_path_order() -> None:
    seen: list[Any] = []

    def fn(event: Any) -> Any:
        seen.append(event)
        return {"Payload": {"score": event["value"] * 2}, "StatusCode": 200}

    definition = single_task(
        {
            "InputPath": "$.body",
            "Parameters": {"value.$": "$.x", "who.$": "$$.Execution.Input.user"},
            "ResultSelector": {"score.$": "$.Payload.score"},
            "ResultPath": "$.result",
            "OutputPath": "$.result",
        }
    )
    sm, _ = machine(definition, {"fn": fn})
    run = sm.execute({"user": "u1", "body": {"x": 21}})
    assert seen == [{"value": 21, "who": "u1"}]
    assert run.status == "SUCCEEDED"
    assert run.output == {"score": 42}


def test_result_path_merges_into_raw_input_and_null_discards() -> None:
    sm, _ = machine(
        single_task({"InputPath": "$.a", "ResultPath": "$.out"}), {"fn": lambda e: e + 1}
    )
    assert sm.execute({"a": 1, "keep": True}).output == {"a": 1, "keep": True, "out": 2}
    sm, _ = machine(single_task({"ResultPath": None}), {"fn": lambda e: "ignored"})
    assert sm.execute({"a": 1}).output == {"a": 1}
    sm, _ = machine(single_task({"OutputPath": None}), {"fn": lambda e: "x"})
    assert sm.execute({"a": 1}).output == {}
    sm, _ = machine(single_task(), {"fn": lambda e: "replaced"})
    assert sm.execute({"a": 1}).output == "replaced"


def test_pass_state_result_parameters_result_path() -> None:
    definition = {
        "StartAt": "P1",
        "States": {
            "P1": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.fixed", "Next": "P2"},
            "P2": {
                "Type": "Pass",
                "Parameters": {"copy.$": "$.fixed.x", "name": "p"},
                "ResultPath": "$.params",
                "Next": "P3",
            },
            "P3": {"Type": "Pass", "End": True},
        },
    }
    sm, _ = machine(definition)
    assert sm.execute({"in": 0}).output == {
        "in": 0,
        "fixed": {"x": 1},
        "params": {"copy": 1, "name": "p"},
    }


def test_task_input_is_a_copy() -> None:
    def mutate(event: Any) -> Any:
        event["x"] = "mutated"
        return None

    sm, _ = machine(single_task({"ResultPath": "$.r"}), {"fn": mutate})
    assert sm.execute({"x": 1}).output == {"x": 1, "r": None}


# --------------------------------------------------------------------------- Retry / Catch


class Flaky:
    def __init__(self, failures: int, exc: Exception | None = None) -> None:
        self.failures = failures
        self.calls = 0
        self.exc = exc or Boom("flaky")

    def __call__(self, event: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return {"ok": self.calls}


def test_retry_backoff_sleeps_then_succeeds() -> None:
    fn = Flaky(3)
    retry = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}]
    sm, clock = machine(single_task({"Retry": retry}), {"fn": fn})
    run = sm.execute({})
    assert run.status == "SUCCEEDED"
    assert run.output == {"ok": 4}
    assert fn.calls == 4
    assert clock.sleeps == [1, 2, 4]


def test_retry_defaults_and_max_delay() -> None:
    fn = Flaky(10)
    sm, clock = machine(single_task({"Retry": [{"ErrorEquals": ["States.ALL"]}]}), {"fn": fn})
    run = sm.execute({})
    assert (run.status, run.error, run.cause) == ("FAILED", "Boom", "flaky")
    assert fn.calls == 4  # 1 + default MaxAttempts 3
    assert clock.sleeps == [1.0, 2.0, 4.0]  # default IntervalSeconds 1, BackoffRate 2.0

    fn = Flaky(10)
    retry = [
        {"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "MaxAttempts": 4, "MaxDelaySeconds": 10}
    ]
    sm, clock = machine(single_task({"Retry": retry}), {"fn": fn})
    sm.execute({})
    assert clock.sleeps == [3, 6, 10, 10]


def test_retry_max_attempts_zero_and_first_matching_retrier_only() -> None:
    fn = Flaky(10)
    retry = [
        {"ErrorEquals": ["Boom"], "MaxAttempts": 0},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5},
    ]
    sm, clock = machine(single_task({"Retry": retry}), {"fn": fn})
    assert sm.execute({}).error == "Boom"
    assert fn.calls == 1
    assert clock.sleeps == []


def test_retry_task_failed_wildcard_excludes_timeout() -> None:
    retry = [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1}]
    fn = Flaky(10)
    sm, _ = machine(single_task({"Retry": retry}), {"fn": fn})
    sm.execute({})
    assert fn.calls == 2
    fn = Flaky(10, TimeoutLike("too slow"))
    sm, _ = machine(single_task({"Retry": retry}), {"fn": fn})
    run = sm.execute({})
    assert fn.calls == 1
    assert (run.error, run.cause) == ("States.Timeout", "too slow")


def test_retries_exhausted_then_catch_with_error_in_result_path() -> None:
    fn = Flaky(10, ValueError("bad reading"))
    definition = single_task(
        {
            "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 2, "MaxAttempts": 2}],
            "Catch": [
                {"ErrorEquals": ["KeyError"], "Next": "Wrong"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle"},
            ],
            "InputPath": "$.payload",
        },
        Handle={"Type": "Pass", "End": True},
        Wrong={"Type": "Fail", "Error": "Wrong"},
    )
    sm, clock = machine(definition, {"fn": fn})
    run = sm.execute({"payload": {"x": 1}})
    assert fn.calls == 3
    assert clock.sleeps == [2, 4]
    assert run.status == "SUCCEEDED"
    assert run.output == {
        "payload": {"x": 1},
        "error": {"Error": "ValueError", "Cause": "bad reading"},
    }


def test_catch_default_result_path_replaces_input() -> None:
    definition = single_task(
        {"Catch": [{"ErrorEquals": ["Boom"], "Next": "Handle"}]},
        Handle={"Type": "Pass", "End": True},
    )
    sm, _ = machine(definition, {"fn": Flaky(1)})
    assert sm.execute({"x": 1}).output == {"Error": "Boom", "Cause": "flaky"}


def test_runtime_errors_are_not_caught() -> None:
    definition = single_task(
        {"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle"}], "InputPath": "$.nope"},
        Handle={"Type": "Pass", "End": True},
    )
    sm, _ = machine(definition, {"fn": lambda e: e})
    run = sm.execute({})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


def test_task_raising_states_error_keeps_its_name() -> None:
    def fn(event: Any) -> Any:
        raise StatesError("Custom.Error", "details")

    sm, _ = machine(single_task(), {"fn": fn})
    run = sm.execute({})
    assert (run.error, run.cause) == ("Custom.Error", "details")


# --------------------------------------------------------------------------- Fail / Succeed / Wait


def test_fail_state() -> None:
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Nope",
            },
            "Done": {"Type": "Succeed", "OutputPath": "$.ok"},
            "Nope": {"Type": "Fail", "Error": "Readings.Invalid", "Cause": "not ok"},
        },
    }
    sm, _ = machine(definition)
    ok = sm.execute({"ok": True})
    assert (ok.status, ok.output) == ("SUCCEEDED", True)
    bad = sm.execute({"ok": False})
    assert (bad.status, bad.output, bad.error, bad.cause) == (
        "FAILED",
        None,
        "Readings.Invalid",
        "not ok",
    )
    assert bad.history[-1]["type"] == "ExecutionFailed"
    assert bad.history[-2]["type"] == "FailStateEntered"


def test_wait_seconds_path_and_timestamp() -> None:
    definition = {
        "StartAt": "W1",
        "States": {
            "W1": {"Type": "Wait", "Seconds": 5, "Next": "W2"},
            "W2": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "W3"},
            "W3": {"Type": "Wait", "Timestamp": "2026-01-05T00:01:00Z", "End": True},
        },
    }
    sm, clock = machine(definition)
    run = sm.execute({"delay": 7})
    assert run.output == {"delay": 7}
    assert clock.sleeps == [5.0, 7.0, 48.0]
    assert sm.execute({"delay": -1}).error == "States.Runtime"


# --------------------------------------------------------------------------- Map


def map_definition(max_concurrency: int) -> dict[str, Any]:
    return {
        "StartAt": "EachPatient",
        "States": {
            "EachPatient": {
                "Type": "Map",
                "ItemsPath": "$.patients",
                "MaxConcurrency": max_concurrency,
                "ItemSelector": {
                    "patient.$": "$$.Map.Item.Value",
                    "index.$": "$$.Map.Item.Index",
                    "day.$": "$.day",
                },
                "ItemProcessor": {
                    "StartAt": "Score",
                    "States": {
                        "Score": {
                            "Type": "Task",
                            "Resource": "score",
                            "ResultPath": "$.score",
                            "Next": "Shape",
                        },
                        "Shape": {
                            "Type": "Pass",
                            "Parameters": {"p.$": "$.patient", "s.$": "$.score", "i.$": "$.index"},
                            "End": True,
                        },
                    },
                },
                "ResultPath": "$.scores",
                "End": True,
            }
        },
    }


class SlowScorer:
    """Earlier items finish later (a barrier makes the pool really run them together)."""

    def __init__(self, parallel: int) -> None:
        self.barrier = threading.Barrier(parallel, timeout=5) if parallel > 1 else None
        self.threads: set[int] = set()
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> Any:
        with self.lock:
            self.threads.add(threading.get_ident())
            self.active += 1
            self.peak = max(self.peak, self.active)
        if self.barrier is not None and event["index"] < self.barrier.parties:
            self.barrier.wait()
        with self.lock:
            self.active -= 1
        return len(event["patient"]) * 10 + event["index"]


@pytest.mark.parametrize("concurrency", [1, 3, 0])
def test_map_results_in_order(concurrency: int) -> None:
    patients = ["a", "bb", "ccc", "dddd", "eeeee"]
    parallel = 3 if concurrency == 3 else (5 if concurrency == 0 else 1)
    scorer = SlowScorer(parallel)
    sm, _ = machine(map_definition(concurrency), {"score": scorer})
    run = sm.execute({"day": "2026-01-05", "patients": patients}, name="map-run")
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["scores"] == [
        {"p": p, "s": len(p) * 10 + i, "i": i} for i, p in enumerate(patients)
    ]
    assert run.output["patients"] == patients
    assert scorer.peak <= parallel
    if parallel > 1:
        assert scorer.peak == parallel
    started = [e["details"]["index"] for e in run.history if e["type"] == "MapIterationStarted"]
    assert sorted(started) == list(range(5))


def test_map_concurrency_capped_by_constructor() -> None:
    scorer = SlowScorer(1)
    sm, _ = machine(map_definition(0), {"score": scorer}, max_map_concurrency=1)
    run = sm.execute({"day": "d", "patients": ["a", "b", "c"]})
    assert run.status == "SUCCEEDED"
    assert scorer.peak == 1
    assert len(scorer.threads) == 1


def test_map_iterator_legacy_fields_and_failure_caught() -> None:
    def check(item: Any) -> Any:
        if item["v"] < 0:
            raise ValueError(f"negative {item['v']}")
        return item["v"]

    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Parameters": {"v.$": "$$.Map.Item.Value"},
                "Iterator": {
                    "StartAt": "C",
                    "States": {"C": {"Type": "Task", "Resource": "check", "End": True}},
                },
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$", "Next": "Bad"}],
                "End": True,
            },
            "Bad": {"Type": "Pass", "End": True},
        },
    }
    sm, _ = machine(definition, {"check": check})
    assert sm.execute([1, 2]).output == [1, 2]
    run = sm.execute([1, -2, -3])
    assert run.output == {"Error": "ValueError", "Cause": "negative -2"}
    types = [e["type"] for e in run.history]
    assert "MapIterationFailed" in types
    assert "MapStateFailed" in types


def test_map_items_must_be_a_list() -> None:
    definition = map_definition(1)
    sm, _ = machine(definition, {"score": SlowScorer(1)})
    run = sm.execute({"day": "d", "patients": "nope"})
    assert (run.status, run.error) == ("FAILED", "States.Runtime")


# --------------------------------------------------------------------------- history


def test_history_of_a_simple_run() -> None:
    clock = FakeClock(T0)

    def fn(event: Any) -> Any:
        clock.now += 1.5
        return {"n": event["n"] + 1}

    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Inc"}],
            },
            "Inc": {"Type": "Task", "Resource": "fn", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    sm = StateMachine(definition, {"fn": fn}, sleep=clock.sleep, clock=clock)
    run = sm.execute({"n": 1}, name="simple")
    assert run.name == "simple"
    assert [e["type"] for e in run.history] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in run.history] == list(range(1, 12))
    by_type = {e["type"]: e for e in run.history}
    assert by_type["ExecutionStarted"]["timestamp"] == "2026-01-05T00:00:00+00:00"
    assert by_type["TaskStateEntered"]["details"] == {"name": "Inc", "input": '{"n": 1}'}
    assert by_type["TaskSucceeded"]["details"]["durationSeconds"] == 1.5
    assert by_type["TaskStateExited"]["details"]["output"] == '{"n": 2}'
    assert by_type["ExecutionSucceeded"]["timestamp"] == "2026-01-05T00:00:01.500000+00:00"
    assert by_type["ExecutionSucceeded"]["details"]["durationSeconds"] == 1.5
    assert json.loads(json.dumps(run.history)) == run.history


def test_history_records_task_failures() -> None:
    sm, _ = machine(
        single_task({"Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}]}), {"fn": Flaky(5)}
    )
    run = sm.execute({})
    failed = [e["details"] for e in run.history if e["type"] == "TaskFailed"]
    assert [(d["error"], d["cause"]) for d in failed] == [("Boom", "flaky")] * 2
    assert run.history[-1]["details"]["error"] == "Boom"
    json.dumps(run.history)


def test_wait_timestamp_in_the_past_does_not_sleep() -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}},
    }
    sm, clock = machine(definition)
    assert sm.execute({"at": "2025-01-01T00:00:00Z"}).status == "SUCCEEDED"
    assert clock.sleeps == []
    assert sm.execute({"at": "not a time"}).error == "States.Runtime"
