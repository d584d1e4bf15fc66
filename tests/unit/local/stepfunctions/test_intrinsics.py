"""Payload templates: paths, the context object and intrinsic functions."""

from __future__ import annotations

import pytest

from glucosestream.local.stepfunctions import AslError, StatesError
from glucosestream.local.stepfunctions.intrinsics import apply_template, evaluate_intrinsic


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
