"""Step Functions adapter: run the deployed pipeline state machine and wait for its end."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RUNNING = "RUNNING"


class StateMachineNotFound(LookupError):
    """No state machine of that name in the account and region (is it deployed?)."""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """How an execution ended: status, the pipeline data it ended with, error and cause."""

    name: str
    status: str
    last_state: dict[str, Any]
    """The output of a finished execution, else the input of the last state it entered."""
    error: str | None = None
    cause: str | None = None


class StateMachineRunner:
    """Starts executions of one state machine (found by name) and polls them to the end."""

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        poll_s: float = 2.0,
        max_poll_s: float = 15.0,
        timeout_s: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.name = name
        self.poll_s = poll_s
        self.max_poll_s = max_poll_s
        self.timeout_s = timeout_s
        self._sleep = sleep

    def arn(self) -> str:
        for page in self.client.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == self.name:
                    return str(machine["stateMachineArn"])
        raise StateMachineNotFound(f"no state machine named {self.name} (is it deployed?)")

    def run(self, execution_input: dict[str, Any], name: str | None = None) -> ExecutionResult:
        """Start an execution and wait for it; raises TimeoutError (the execution goes on)."""
        name = name or uuid.uuid4().hex[:12]
        started = self.client.start_execution(
            stateMachineArn=self.arn(), name=name, input=json.dumps(execution_input)
        )
        execution_arn = started["executionArn"]
        waited, pause = 0.0, self.poll_s
        while True:
            described = self.client.describe_execution(executionArn=execution_arn)
            if described["status"] != RUNNING:
                break
            if waited >= self.timeout_s:
                raise TimeoutError(f"execution {execution_arn} still running after {waited:.0f} s")
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, self.max_poll_s)
        status = str(described["status"])
        output = described.get("output")
        last = json.loads(output) if output else self._last_entered(execution_arn)
        return ExecutionResult(
            name=name,
            status=status,
            last_state=last if isinstance(last, dict) else {},
            error=described.get("error"),
            cause=described.get("cause"),
        )

    def _last_entered(self, execution_arn: str) -> Any:
        """The input of the last state entered (a failed execution has no output)."""
        events = self.client.get_execution_history(
            executionArn=execution_arn, reverseOrder=True, maxResults=100
        )["events"]
        for event in events:
            details = event.get("stateEnteredEventDetails")
            if details is not None:
                return json.loads(details.get("input") or "{}")
        return {}
