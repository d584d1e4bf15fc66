"""The local ASL interpreter: paths, templates, Choice, Retry/Catch, Map, Wait, history."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from glucosestream.local.stepfunctions import (
    AslError,
    StateMachine,
    StatesError,
    apply_template,
    evaluate_intrinsic,
    evaluate_rule,
    fill_placeholders,
    get_path,
    parse_path,
    set_path,
)
from tests.support.clock import FakeClock

T0 = 1_767_571_200.0  # 2026-01-05T00:00:00Z


class Boom(Exception):
    pass


class TimeoutLike(Exception):
    error = "States.Timeout"


def machine(definition: dict[str, Any], resources: dict[str, Any] | None = None, **kw: Any) -> Any:
    clock = FakeClock(T0)
    sm = StateMachine(definition, resources or {}, sleep=clock.sleep, clock=clock, **kw)
    return sm, clock


def single_task(extra: dict[str, Any] | None = None, **states: Any) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": "fn", "End": True, **(extra or {})}
    return {"StartAt": "T", "States": {"T": task, **states}}


# --------------------------------------------------------------------------- paths


def test_parse_path_subset() -> None:
    assert parse_path("$") == (False, [])
    assert parse_path("$.a.b") == (False, ["a", "b"])
    assert parse_path("$.a[0].b") == (False, ["a", 0, "b"])
    assert parse_path("$['a b'].c") == (False, ["a b", "c"])
    assert parse_path("$$.Execution.Input") == (True, ["Execution", "Input"])
    for bad in ["a.b", "$.a[*]", "$..a", "$.a[?(@.x)]", "$.", "$.a[-1]"]:
        with pytest.raises(AslError):
            parse_path(bad)


def test_get_path_and_missing_is_runtime_error() -> None:
    data = {"a": {"b": [10, {"c": None}]}}
    assert get_path(data, "$") is data
    assert get_path(data, "$.a.b[0]") == 10
    assert get_path(data, "$.a.b[1].c") is None
    assert get_path(data, "$$.x", context={"x": 5}) == 5
    for missing in ["$.z", "$.a.b[2]", "$.a.b.c", "$.a.b[0].x"]:
        with pytest.raises(StatesError) as info:
            get_path(data, missing)
        assert info.value.error == "States.Runtime"


def test_set_path_merges_copies_and_creates() -> None:
    data = {"a": 1, "b": {"c": 2}}
    assert set_path(data, "$", 9) == 9
    assert set_path(data, "$.b.d", 3) == {"a": 1, "b": {"c": 2, "d": 3}}
    assert set_path(data, "$.x.y", 3) == {"a": 1, "b": {"c": 2}, "x": {"y": 3}}
    assert data == {"a": 1, "b": {"c": 2}}  # not mutated
    with pytest.raises(StatesError) as info:
        set_path(data, "$.a.z", 1)
    assert info.value.error == "States.ResultPathMatchFailure"
    with pytest.raises(StatesError):
        set_path([1], "$.a", 1)


# --------------------------------------------------------------------------- templates


def test_parameters_paths_context_and_intrinsics() -> None:
    data = {"user": {"id": "p1", "n": 3}, "items": [1, 2], "blob": '{"k": [1, 2]}'}
    context = {"Execution": {"Name": "run-1"}}
    template = {
        "static": {"nested": [1, "x"]},
        "id.$": "$.user.id",
        "first.$": "$.items[0]",
        "exec.$": "$$.Execution.Name",
        "msg.$": "States.Format('patient {} has {} readings', $.user.id, $.user.n)",
        "parsed.$": "States.StringToJson($.blob)",
        "text.$": "States.JsonToString($.user)",
        "arr.$": "States.Array($.user.id, 2, 'three', true, null)",
        "nested.$": "States.Format('{}', States.JsonToString(States.Array(1, 2)))",
        "len.$": "States.ArrayLength($.items)",
        "sum.$": "States.MathAdd($.user.n, -1)",
        "inner": {"deep.$": "$.user.n"},
    }
    assert apply_template(template, data, context) == {
        "static": {"nested": [1, "x"]},
        "id": "p1",
        "first": 1,
        "exec": "run-1",
        "msg": "patient p1 has 3 readings",
        "parsed": {"k": [1, 2]},
        "text": '{"id":"p1","n":3}',
        "arr": ["p1", 2, "three", True, None],
        "nested": "[1,2]",
        "len": 2,
        "sum": 2,
        "inner": {"deep": 3},
    }


def test_format_escapes_and_errors() -> None:
    assert evaluate_intrinsic(r"States.Format('a \{\} it\'s {}', 'x')", {}) == "a {} it's x"
    with pytest.raises(StatesError) as info:
        evaluate_intrinsic("States.Format('{} {}', 'x')", {})
    assert info.value.error == "States.IntrinsicFailure"
    with pytest.raises(StatesError):
        evaluate_intrinsic("States.StringToJson('{nope')", {})
    with pytest.raises(AslError):
        evaluate_intrinsic("States.Hash('x', 'SHA-1')", {})
    with pytest.raises(AslError):
        evaluate_intrinsic("States.Format('x'", {})


# --------------------------------------------------------------------------- Choice


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.s", "StringEquals": "abc"}, True),
        ({"Variable": "$.s", "StringEquals": "abd"}, False),
        ({"Variable": "$.n", "StringEquals": "5"}, False),  # type mismatch is false
        ({"Variable": "$.s", "StringLessThan": "abd"}, True),
        ({"Variable": "$.s", "StringGreaterThanEquals": "abc"}, True),
        ({"Variable": "$.s", "StringMatches": "a*c"}, True),
        ({"Variable": "$.s", "StringMatches": "*b"}, False),
        ({"Variable": "$.star", "StringMatches": r"x\*y"}, True),
        ({"Variable": "$.s", "StringMatches": r"a\*c"}, False),
        ({"Variable": "$.n", "NumericEquals": 5}, True),
        ({"Variable": "$.n", "NumericEquals": 5.0}, True),
        ({"Variable": "$.n", "NumericLessThan": 5}, False),
        ({"Variable": "$.n", "NumericLessThanEquals": 5}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 4.5}, True),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 6}, False),
        ({"Variable": "$.b", "NumericEquals": 1}, False),  # a boolean is not a number
        ({"Variable": "$.b", "BooleanEquals": True}, True),
        ({"Variable": "$.n", "BooleanEquals": True}, False),
        ({"Variable": "$.z", "IsNull": True}, True),
        ({"Variable": "$.n", "IsNull": True}, False),
        ({"Variable": "$.n", "IsPresent": True}, True),
        ({"Variable": "$.missing", "IsPresent": False}, True),
        ({"Variable": "$.n", "IsNumeric": True}, True),
        ({"Variable": "$.s", "IsString": True}, True),
        ({"Variable": "$.b", "IsBoolean": True}, True),
        ({"Variable": "$.t", "IsTimestamp": True}, True),
        ({"Variable": "$.t", "TimestampLessThan": "2026-01-06T00:00:00Z"}, True),
        ({"Variable": "$.t", "TimestampEqualsPath": "$.t"}, True),
        ({"Variable": "$.s", "StringEqualsPath": "$.s2"}, True),
        ({"Variable": "$.n", "NumericLessThanPath": "$.m"}, True),
        ({"Variable": "$.n", "NumericGreaterThanPath": "$.m"}, False),
        ({"Variable": "$.b", "BooleanEqualsPath": "$.b"}, True),
        (
            {"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.b", "IsNull": True}]},
            False,
        ),
        (
            {
                "Or": [
                    {"Variable": "$.n", "NumericEquals": 4},
                    {"Variable": "$.b", "IsBoolean": True},
                ]
            },
            True,
        ),
        ({"Not": {"Variable": "$.s", "StringEquals": "abc"}}, False),
    ],
)
def test_choice_operators(rule: dict[str, Any], expected: bool) -> None:
    data = {
        "s": "abc",
        "s2": "abc",
        "star": "x*y",
        "n": 5,
        "m": 7,
        "b": True,
        "z": None,
        "t": "2026-01-05T10:00:00Z",
    }
    assert evaluate_rule(rule, data) is expected


def choice_machine() -> dict[str, Any]:
    return {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "InputPath": "$.reading",
                "Choices": [
                    {"Variable": "$.mgdl", "NumericLessThan": 70, "Next": "Low"},
                    {
                        "And": [
                            {"Variable": "$.mgdl", "NumericGreaterThanEquals": 70},
                            {"Variable": "$.mgdl", "NumericLessThanEquals": 180},
                        ],
                        "Next": "InRange",
                    },
                ],
            },
            "Low": {"Type": "Pass", "Result": "low", "End": True},
            "InRange": {"Type": "Pass", "Result": "in-range", "End": True},
        },
    }


def test_choice_routes_default_and_no_match() -> None:
    sm, _ = machine(choice_machine())
    assert sm.execute({"reading": {"mgdl": 55}}).output == "low"
    assert sm.execute({"reading": {"mgdl": 120}}).output == "in-range"
    failed = sm.execute({"reading": {"mgdl": 250}})
    assert failed.status == "FAILED"
    assert failed.error == "States.NoChoiceMatched"

    definition = choice_machine()
    definition["States"]["Route"]["Default"] = "High"
    definition["States"]["High"] = {"Type": "Pass", "Result": "high", "End": True}
    sm, _ = machine(definition)
    assert sm.execute({"reading": {"mgdl": 250}}).output == "high"
    # A missing Variable is a runtime error, not a non-match.
    missing = sm.execute({"reading": {}})
    assert (missing.status, missing.error) == ("FAILED", "States.Runtime")


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


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"StartAt": "X", "States": {"A": {"Type": "Succeed"}}}, "StartAt 'X'"),
        ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}, "state 'A'"),
        ({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}, "Next or End"),
        ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A", "End": True}}}, "'A'"),
        ({"StartAt": "A", "States": {"A": {"Type": "Bogus"}}}, "unknown state Type 'Bogus'"),
        ({"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": True}}}, "Parallel"),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "nope", "End": True}}},
            "Resource 'nope'",
        ),
        ({"StartAt": "A", "States": {"A": {"Type": "Succeed", "Next": "A"}}}, "cannot have Next"),
        ({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": []}}}, "Choices"),
        (
            {
                "StartAt": "A",
                "States": {
                    "A": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.x", "StringEquals": "a", "Next": "Z"}],
                    }
                },
            },
            "Choice Next 'Z'",
        ),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "Next": "A"}]}},
            },
            "exactly one comparison",
        ),
        ({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": True}}}, "Seconds"),
        (
            {
                "StartAt": "A",
                "States": {
                    "A": {
                        "Type": "Task",
                        "Resource": "fn",
                        "End": True,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
                    }
                },
            },
            "Catch Next 'Gone'",
        ),
        (
            {
                "StartAt": "M",
                "States": {
                    "M": {
                        "Type": "Map",
                        "End": True,
                        "ItemProcessor": {
                            "StartAt": "I",
                            "States": {"I": {"Type": "Pass", "Next": "M"}},
                        },
                    }
                },
            },
            "iterator of Map 'M'",
        ),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a[*]", "End": True}}},
            "InputPath",
        ),
    ],
)
def test_bad_definitions_are_rejected(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(AslError, match=message.replace("[", r"\[").replace("*", r"\*")):
        StateMachine(definition, {"fn": lambda e: e})


# --------------------------------------------------------------------------- placeholders


def test_fill_placeholders() -> None:
    text = '{"Resource": "${score_arn}", "Comment": "$${literal} ${ region }"}'
    filled = fill_placeholders(text, {"score_arn": "arn:aws:lambda:x", "region": "eu-west-1"})
    assert json.loads(filled) == {
        "Resource": "arn:aws:lambda:x",
        "Comment": "${literal} eu-west-1",
    }
    with pytest.raises(AslError, match="unknown placeholder"):
        fill_placeholders("${missing}", {})


def test_templated_definition_runs_end_to_end() -> None:
    template = json.dumps(
        {
            "StartAt": "Score",
            "States": {
                "Score": {"Type": "Task", "Resource": "${score_arn}", "Next": "Check"},
                "Check": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                    "Default": "Failed",
                },
                "Done": {"Type": "Succeed"},
                "Failed": {"Type": "Fail", "ErrorPath": "$.code", "CausePath": "$.why"},
            },
        }
    )
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:score"
    definition = json.loads(fill_placeholders(template, {"score_arn": arn}))
    sm, _ = machine(definition, {arn: lambda e: e})
    assert sm.execute({"ok": True}).status == "SUCCEEDED"
    run = sm.execute({"ok": False, "code": "Score.Low", "why": "below threshold"})
    assert (run.status, run.error, run.cause) == ("FAILED", "Score.Low", "below threshold")


def test_wait_timestamp_in_the_past_does_not_sleep() -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}},
    }
    sm, clock = machine(definition)
    assert sm.execute({"at": "2025-01-01T00:00:00Z"}).status == "SUCCEEDED"
    assert clock.sleeps == []
    assert sm.execute({"at": "not a time"}).error == "States.Runtime"
