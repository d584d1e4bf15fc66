"""Definitions that are invalid, or not supported locally, are rejected before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from glucosestream.local.stepfunctions import AslError, StateMachine


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
