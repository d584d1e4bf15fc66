"""The JSONPath subset: parsing, reading (missing is a runtime error), ResultPath writes."""

from __future__ import annotations

import pytest

from glucosestream.local.stepfunctions import AslError, StatesError
from glucosestream.local.stepfunctions.paths import get_path, parse_path, set_path


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
