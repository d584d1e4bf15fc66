"""``${...}`` placeholders filled as Terraform's templatefile fills them."""

from __future__ import annotations

import json

import pytest

from glucosestream.local.stepfunctions import AslError, fill_placeholders
from tests.unit.local.stepfunctions.asl import machine


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
