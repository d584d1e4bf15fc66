"""Helpers to build and run small state machines under a fake clock."""

from __future__ import annotations

from typing import Any

from glucosestream.local.stepfunctions import StateMachine
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
