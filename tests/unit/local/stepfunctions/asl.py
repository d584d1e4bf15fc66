"""Helpers to build and run small state machines under a fake clock."""

from __future__ import annotations

import threading
from typing import Any

from glucosestream.local.stepfunctions import StateMachine

T0 = 1_767_571_200.0  # 2026-01-05T00:00:00Z


class FakeClock:
    """A clock that only moves when something sleeps (or a task advances it)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class Boom(Exception):
    pass


class TimeoutLike(Exception):
    error = "States.Timeout"


def machine(definition: dict[str, Any], resources: dict[str, Any] | None = None, **kw: Any) -> Any:
    clock = FakeClock()
    sm = StateMachine(definition, resources or {}, sleep=clock.sleep, clock=clock, **kw)
    return sm, clock


def single_task(extra: dict[str, Any] | None = None, **states: Any) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": "fn", "End": True, **(extra or {})}
    return {"StartAt": "T", "States": {"T": task, **states}}
