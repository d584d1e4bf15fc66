"""Choice rules: every operator, And/Or/Not, and a Choice state's routing."""

from __future__ import annotations

from typing import Any

import pytest

from glucosestream.local.stepfunctions.choice import evaluate_rule
from tests.unit.local.stepfunctions.asl import machine


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
