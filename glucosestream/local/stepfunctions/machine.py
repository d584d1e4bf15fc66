"""The interpreter: a validated definition bound to local resources, run state by state.

Task, Pass, Choice, Wait, Map (inline and distributed), Succeed and Fail; Retry and Catch; the
execution history.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from glucosestream.local.stepfunctions.choice import evaluate_rule, parse_timestamp
from glucosestream.local.stepfunctions.distributed import FailureTolerance, child_inputs
from glucosestream.local.stepfunctions.errors import StatesError
from glucosestream.local.stepfunctions.intrinsics import apply_template
from glucosestream.local.stepfunctions.paths import get_path, put_result, select
from glucosestream.local.stepfunctions.validation import S3_LIST_OBJECTS, map_mode, validate_machine
from glucosestream.settings import arn

MAX_STATE_TRANSITIONS = 25_000  # the Step Functions history limit, as a guard against loops
_ACCOUNT = "000000000000"  # a placeholder: a local execution belongs to no account


@dataclass
class Execution:
    """The result of one run: status, output or error/cause, and a JSON-serialisable history."""

    name: str
    input: Any
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _error_of(exc: BaseException) -> StatesError:
    if isinstance(exc, StatesError):
        return exc
    name = getattr(exc, "error", None)
    return StatesError(name if isinstance(name, str) else type(exc).__name__, str(exc))


def _matches(errors: list[str], error: str) -> bool:
    if error == "States.Runtime":
        return False  # never retried nor caught, as in AWS
    for candidate in errors:
        if candidate == error or candidate == "States.ALL":
            return True
        if candidate == "States.TaskFailed" and error != "States.Timeout":
            return True
    return False


class _Run:
    """The mutable state of one execution: history (thread-safe) and the context object."""

    def __init__(self, machine: StateMachine, execution: Execution) -> None:
        self.machine = machine
        self.execution = execution
        self.lock = threading.Lock()
        self.transitions = 0
        self.start = machine.clock()

    def event(self, kind: str, **details: Any) -> None:
        now = self.machine.clock()
        with self.lock:
            history = self.execution.history
            history.append(
                {
                    "id": len(history) + 1,
                    "timestamp": datetime.fromtimestamp(now, UTC).isoformat(),
                    "type": kind,
                    "details": details,
                }
            )

    def count_transition(self) -> None:
        with self.lock:
            self.transitions += 1
            if self.transitions > MAX_STATE_TRANSITIONS:
                raise StatesError("States.Runtime", "too many state transitions (a loop?)")


class StateMachine:
    """A validated ASL definition bound to local resources; :meth:`execute` runs it."""

    def __init__(
        self,
        definition: Mapping[str, Any],
        resources: Mapping[str, Callable[[Any], Any]],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_map_concurrency: int | None = None,
        name: str = "local",
    ) -> None:
        validate_machine(definition, resources)
        self.definition = copy.deepcopy(dict(definition))
        self.resources = dict(resources)
        self.sleep = sleep
        self.clock = clock
        self.max_map_concurrency = max_map_concurrency
        self.name = name

    def execute(self, input: Any = None, name: str | None = None) -> Execution:
        """Run to completion; never raises for runtime failures (see ``status``/``error``)."""
        execution = Execution(name=name or str(uuid.uuid4()), input=copy.deepcopy(input))
        run = _Run(self, execution)
        start = run.start
        context: dict[str, Any] = {
            "Execution": {
                "Id": arn("states", "local", f"execution:{self.name}:{execution.name}", _ACCOUNT),
                "Name": execution.name,
                "Input": copy.deepcopy(input),
                "StartTime": datetime.fromtimestamp(start, UTC).isoformat(),
            },
            "StateMachine": {
                "Id": arn("states", "local", f"stateMachine:{self.name}", _ACCOUNT),
                "Name": self.name,
            },
        }
        run.event("ExecutionStarted", input=_dump(input), name=execution.name)
        try:
            output = self._run_states(run, self.definition, copy.deepcopy(input), context)
        except StatesError as exc:
            execution.status, execution.error, execution.cause = "FAILED", exc.error, exc.cause
            run.event(
                "ExecutionFailed",
                error=exc.error,
                cause=exc.cause,
                durationSeconds=self.clock() - start,
            )
        else:
            execution.status, execution.output = "SUCCEEDED", output
            run.event(
                "ExecutionSucceeded", output=_dump(output), durationSeconds=self.clock() - start
            )
        return execution

    # -- the state loop ----------------------------------------------------------------------

    def _run_states(
        self, run: _Run, machine: Mapping[str, Any], data: Any, base_context: dict[str, Any]
    ) -> Any:
        states: Mapping[str, Any] = machine["States"]
        current: str = machine["StartAt"]
        while True:
            run.count_transition()
            state = states[current]
            kind = state["Type"]
            entered = self.clock()
            context = {
                **base_context,
                "State": {
                    "Name": current,
                    "EnteredTime": datetime.fromtimestamp(entered, UTC).isoformat(),
                    "RetryCount": 0,
                },
            }
            run.event(f"{kind}StateEntered", name=current, input=_dump(data))
            output, following = self._run_state(run, current, state, data, context)
            if kind == "Fail":  # pragma: no cover - _run_state raises for Fail
                raise AssertionError("unreachable")
            run.event(
                f"{kind}StateExited",
                name=current,
                output=_dump(output),
                durationSeconds=self.clock() - entered,
            )
            if following is None:
                return output
            current, data = following, output

    def _run_state(
        self, run: _Run, name: str, state: Mapping[str, Any], raw: Any, context: dict[str, Any]
    ) -> tuple[Any, str | None]:
        """Run one state on its raw input; returns (output, next state name or None at the end)."""
        kind = state["Type"]
        following: str | None = state.get("Next")
        data = select(raw, state.get("InputPath", "$"), context)
        if kind == "Fail":
            error = state.get("Error", "States.Fail")
            cause = state.get("Cause", "")
            if "ErrorPath" in state:
                error = str(get_path(data, state["ErrorPath"], context))
            if "CausePath" in state:
                cause = str(get_path(data, state["CausePath"], context))
            raise StatesError(error, cause)
        if kind in ("Succeed", "Choice"):
            if kind == "Choice":
                following = self._choose(name, state, data, context)
            return select(data, state.get("OutputPath", "$"), context), following
        if kind == "Wait":
            self._wait(state, data, context)
            return select(data, state.get("OutputPath", "$"), context), following
        if "Parameters" in state and kind != "Map":
            data = apply_template(state["Parameters"], data, context)
        if kind == "Pass":
            result = copy.deepcopy(state["Result"]) if "Result" in state else data
        else:
            try:
                result = self._with_retry(run, name, state, data, context)
            except StatesError as exc:
                catcher = next(
                    (c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], exc.error)),
                    None,
                )
                if catcher is None:
                    raise
                error_output = {"Error": exc.error, "Cause": exc.cause}
                caught = put_result(raw, catcher.get("ResultPath", "$"), error_output)
                return caught, catcher["Next"]
            if "ResultSelector" in state:
                result = apply_template(state["ResultSelector"], result, context)
        combined = put_result(raw, state.get("ResultPath", "$"), result)
        return select(combined, state.get("OutputPath", "$"), context), following

    def _choose(
        self, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]
    ) -> str:
        for rule in state["Choices"]:
            if evaluate_rule(rule, data, context):
                target: str = rule["Next"]
                return target
        if "Default" in state:
            default: str = state["Default"]
            return default
        raise StatesError("States.NoChoiceMatched", f"no Choice rule matched in state {name!r}")

    def _wait(self, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> None:
        if "Seconds" in state or "SecondsPath" in state:
            seconds = state.get("Seconds")
            if "SecondsPath" in state:
                seconds = get_path(data, state["SecondsPath"], context)
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                raise StatesError("States.Runtime", f"Wait seconds must be >= 0, got {seconds!r}")
            self.sleep(float(seconds))
            return
        stamp = state.get("Timestamp")
        if "TimestampPath" in state:
            stamp = get_path(data, state["TimestampPath"], context)
        moment = parse_timestamp(stamp)
        if moment is None:
            raise StatesError("States.Runtime", f"Wait timestamp is not ISO-8601: {stamp!r}")
        delay = moment.timestamp() - self.clock()
        if delay > 0:
            self.sleep(delay)

    def _with_retry(
        self, run: _Run, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]
    ) -> Any:
        retriers: list[Mapping[str, Any]] = state.get("Retry", [])
        attempts = [0] * len(retriers)
        retries = 0
        while True:
            context["State"]["RetryCount"] = retries
            try:
                if state["Type"] == "Map":
                    return self._run_map(run, name, state, data, context)
                return self._invoke(run, state, data)
            except StatesError as exc:
                index = next(
                    (i for i, r in enumerate(retriers) if _matches(r["ErrorEquals"], exc.error)),
                    None,
                )
                if index is None:
                    raise
                retrier = retriers[index]
                if attempts[index] >= retrier.get("MaxAttempts", 3):
                    raise
                delay = (
                    retrier.get("IntervalSeconds", 1)
                    * retrier.get("BackoffRate", 2.0) ** (attempts[index])
                )
                if "MaxDelaySeconds" in retrier:
                    delay = min(delay, retrier["MaxDelaySeconds"])
                attempts[index] += 1
                retries += 1
                self.sleep(delay)

    def _invoke(self, run: _Run, state: Mapping[str, Any], data: Any) -> Any:
        resource: str = state["Resource"]
        function = self.resources[resource]
        run.event("TaskScheduled", resource=resource, parameters=_dump(data))
        started = self.clock()
        run.event("TaskStarted", resource=resource)
        try:
            result = function(copy.deepcopy(data))
        except Exception as exc:
            error = _error_of(exc)
            run.event(
                "TaskFailed",
                resource=resource,
                error=error.error,
                cause=error.cause,
                durationSeconds=self.clock() - started,
            )
            raise error from exc
        run.event(
            "TaskSucceeded",
            resource=resource,
            output=_dump(result),
            durationSeconds=self.clock() - started,
        )
        return result

    def _run_map(
        self, run: _Run, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]
    ) -> list[Any]:
        if map_mode(state) == "DISTRIBUTED":
            return self._run_distributed_map(run, name, state, data, context)
        items = get_path(data, state.get("ItemsPath", "$"), context)
        if not isinstance(items, list):
            raise StatesError("States.Runtime", f"Map {name!r}: ItemsPath did not select an array")
        processor: Mapping[str, Any] = state.get("ItemProcessor", state.get("Iterator", {}))
        selector = state.get("ItemSelector", state.get("Parameters"))
        run.event("MapStateStarted", name=name, length=len(items))

        def iteration(index: int) -> Any:
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": items[index]}}}
            item_input = (
                apply_template(selector, data, item_context)
                if selector is not None
                else copy.deepcopy(items[index])
            )
            run.event("MapIterationStarted", name=name, index=index)
            base = {k: v for k, v in item_context.items() if k != "State"}
            try:
                output = self._run_states(run, processor, item_input, base)
            except StatesError as exc:
                run.event(
                    "MapIterationFailed", name=name, index=index, error=exc.error, cause=exc.cause
                )
                raise
            run.event("MapIterationSucceeded", name=name, index=index)
            return output

        workers = self._map_workers(state.get("MaxConcurrency", 0), len(items))
        try:
            if workers <= 1:
                results = [iteration(i) for i in range(len(items))]
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    futures = [pool.submit(iteration, i) for i in range(len(items))]
                    results = [future.result() for future in futures]
        except StatesError as exc:
            run.event("MapStateFailed", name=name, error=exc.error, cause=exc.cause)
            raise
        run.event("MapStateSucceeded", name=name)
        return results

    # -- the distributed Map ----------------------------------------------------------------

    def _run_distributed_map(
        self, run: _Run, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]
    ) -> list[Any]:
        """Child executions over the items (or batches of items); see the module docstring."""
        items = self._read_items(run, name, state, data, context)
        selector = state.get("ItemSelector", state.get("Parameters"))
        selected = [
            apply_template(
                selector, data, {**context, "Map": {"Item": {"Index": index, "Value": item}}}
            )
            if selector is not None
            else copy.deepcopy(item)
            for index, item in enumerate(items)
        ]
        children = child_inputs(name, state.get("ItemBatcher"), selected, data, context)
        weights = [len(c["Items"]) if "ItemBatcher" in state else 1 for c in children]
        total = len(items)
        run.event("MapRunStarted", name=name, items=total, childExecutions=len(children))
        processor: Mapping[str, Any] = state["ItemProcessor"]
        tolerance = FailureTolerance(state, total)
        results: list[Any] = [None] * len(children)

        def child(index: int) -> None:
            if tolerance.exceeded():
                return  # a Map run past its threshold starts no further child
            execution = Execution(
                name=f"{run.execution.name}:{name}:{index}", input=copy.deepcopy(children[index])
            )
            child_run = _Run(self, execution)
            child_context = {
                "Execution": {
                    **context["Execution"],
                    "Name": execution.name,
                    "Input": copy.deepcopy(children[index]),
                },
                "StateMachine": context["StateMachine"],
            }
            try:
                results[index] = self._run_states(
                    child_run, processor, copy.deepcopy(children[index]), child_context
                )
            except StatesError as exc:
                results[index] = {"Error": exc.error, "Cause": exc.cause}
                tolerance.failed(weights[index], exc)
                run.event(
                    "MapRunChildFailed", name=name, index=index, error=exc.error, cause=exc.cause
                )

        workers = self._map_workers(state.get("MaxConcurrency", 0), len(children))
        if workers <= 1:
            for index in range(len(children)):
                child(index)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for future in [pool.submit(child, i) for i in range(len(children))]:
                    future.result()
        if tolerance.exceeded():
            error = StatesError("States.ExceedToleratedFailureThreshold", tolerance.describe(name))
            run.event("MapRunFailed", name=name, error=error.error, cause=error.cause)
            raise error
        run.event("MapRunSucceeded", name=name, failedItems=tolerance.failed_items)
        return results

    def _read_items(
        self, run: _Run, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]
    ) -> list[Any]:
        reader = state.get("ItemReader")
        if reader is None:
            items = get_path(data, state.get("ItemsPath", "$"), context)
            if not isinstance(items, list):
                raise StatesError(
                    "States.Runtime", f"Map {name!r}: ItemsPath did not select an array"
                )
            return items
        parameters = apply_template(reader["Parameters"], data, context)
        run.event("ItemReaderStarted", name=name, resource=S3_LIST_OBJECTS, parameters=parameters)
        try:
            listed = list(self.resources[S3_LIST_OBJECTS](copy.deepcopy(parameters)))
        except Exception as exc:
            reason = _error_of(exc)
            raise StatesError("States.ItemReaderFailed", f"{reason.error}: {reason.cause}") from exc
        limit = (reader.get("ReaderConfig") or {}).get("MaxItems", 0)
        return listed[:limit] if limit else listed

    def _map_workers(self, declared: Any, count: int) -> int:
        limit = count if not declared else int(declared)
        if self.max_map_concurrency is not None:
            limit = min(limit, self.max_map_concurrency)
        return max(1, min(limit, count))
