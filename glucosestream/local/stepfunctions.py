"""A local interpreter of the Amazon States Language (ASL): Step Functions definitions in-process.

The deployed state machine is an ASL JSON document whose Task states name Lambda ARNs (or service
integrations). On one machine this module runs the same document, with each ``Resource`` string
looked up in a mapping of plain Python callables, following the semantics of the States Language
specification (states-language.net) and the Step Functions documentation:

* States: Task, Pass, Choice, Wait, Map (inline, ``Iterator`` or ``ItemProcessor``), Succeed, Fail.
* Input/output processing in AWS order: InputPath → Parameters → (task) → ResultSelector →
  ResultPath (merged into the *raw* state input; ``null`` discards the result) → OutputPath.
  Payload templates resolve keys ending in ``.$`` as a path (``$...`` on the state input,
  ``$$...`` on the context object) or an intrinsic function: ``States.Format``,
  ``States.StringToJson``, ``States.JsonToString``, ``States.Array``, ``States.ArrayLength``,
  ``States.ArrayGetItem``, ``States.MathAdd``.
* Paths: the JSONPath subset ASL needs — ``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``, and the
  same on the context object with ``$$`` (``$$.Execution.Input``, ``$$.State.Name``,
  ``$$.Map.Item.Value``, ...).
* Retry (ErrorEquals, IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds) and Catch
  (ErrorEquals, Next, ResultPath) on Task and Map states; ``States.ALL`` and ``States.TaskFailed``
  wildcards. Retry delays go through the injected ``sleep``. A Python exception raised by a task
  becomes Error = its ``error`` attribute if it has a string one, else its class name, and
  Cause = ``str(exception)``.
* Choice: every String*/Numeric*/Boolean*/Timestamp* comparison and its ``...Path`` variant,
  StringMatches with ``*`` wildcards, IsPresent/IsNull/IsNumeric/IsString/IsBoolean/IsTimestamp,
  And/Or/Not, Default, ``States.NoChoiceMatched``.
* Map: ItemsPath, ItemSelector (or the legacy Parameters), MaxConcurrency — iterations run in a
  thread pool when the effective concurrency is above 1; results keep the item order.
* Distributed Map (``ItemProcessor.ProcessorConfig.Mode = DISTRIBUTED``): items from the state
  input or from an ``ItemReader`` with ``Resource: arn:aws:states:::s3:listObjectsV2`` and
  ``Parameters {Bucket, Prefix}`` (a payload template; ``ReaderConfig.MaxItems``), listed by the
  callable bound to that resource, which returns ListObjectsV2's items (``Key``, ``Size``, ...)
  in key order; ``ItemSelector`` per item; ``ItemBatcher`` (``MaxItemsPerBatch``,
  ``MaxInputBytesPerBatch``, ``BatchInput`` — a payload template on the state input) giving each
  child execution ``{"Items": [...], "BatchInput": {...}}``; ``MaxConcurrency`` (0: as many as
  the constructor allows); ``ToleratedFailurePercentage``/``ToleratedFailureCount`` (default 0:
  the first failed child fails the Map with ``States.ExceedToleratedFailureThreshold`` and no
  further child starts). The output is the array of the child executions' outputs in item
  order, a tolerated failed child's entry being ``{"Error", "Cause"}``. Each child runs the
  ItemProcessor as its own execution: ``$$.Execution.Input`` is the child's input.
* The definition is validated before anything runs; problems raise :class:`AslError` naming the
  state.

Not supported (rejected by validation where they would change behaviour): Parallel states,
the distributed Map's ResultWriter, ItemReaders other than ``s3:listObjectsV2``, the ``...Path``
variants of its batching and tolerance fields, ``.waitForTaskToken``/``.sync`` callback
semantics (the callable's return value is the result), TimeoutSeconds/HeartbeatSeconds
enforcement, Retry ``JitterStrategy``, JSONata, JSONPath filters/wildcards,
and intrinsics other than those listed. ``States.Runtime`` errors (a path that does not resolve,
a non-list ItemsPath...) fail the execution and are never retried or caught, as in AWS.
"""

from __future__ import annotations

import copy
import json
import operator as op
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AslError",
    "Execution",
    "StateMachine",
    "StatesError",
    "apply_template",
    "evaluate_intrinsic",
    "evaluate_rule",
    "fill_placeholders",
    "get_path",
    "parse_path",
    "set_path",
]

MAX_STATE_TRANSITIONS = 25_000  # the Step Functions history limit, as a guard against loops
S3_LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
"""The ItemReader resource of a Distributed Map over the objects under a prefix."""
MAX_CHILD_INPUT_BYTES = 256 * 1024
"""A child execution's input, like any state payload, is at most 256 KiB."""


class AslError(ValueError):
    """The definition (or a path/template in it) is invalid; raised before or instead of running."""


class StatesError(Exception):
    """A runtime error with an ASL error name (``States.TaskFailed``, a task's own name, ...)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


# --------------------------------------------------------------------------------------------
# Placeholders (templatefile-style)

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace ``${name}`` with ``values[name]``, like Terraform's ``templatefile``.

    ``$${`` is the escape for a literal ``${``. An unknown name raises :class:`AslError`.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1).strip()
        if name not in values:
            raise AslError(f"unknown placeholder ${{{name}}} (known: {sorted(values)})")
        return str(values[name])

    return _PLACEHOLDER.sub(replace, text)


# --------------------------------------------------------------------------------------------
# JSONPath subset

PathStep = str | int

_NAME_CHARS = re.compile(r"[^.\[\]]+")
_INDEX = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"\[\s*'((?:[^'\\]|\\.)*)'\s*\]")


def parse_path(path: str) -> tuple[bool, list[PathStep]]:
    """Parse a reference path; returns (is_context_path, steps).

    Accepts ``$``, ``$.a.b``, ``$.a[0]``, ``$['a']`` and the same with ``$$`` for the context
    object. Anything else (wildcards, filters, slices, recursive descent) raises :class:`AslError`.
    """
    if not isinstance(path, str) or not path.startswith("$"):
        raise AslError(f"invalid path {path!r}: must start with '$'")
    context = path.startswith("$$")
    pos = 2 if context else 1
    steps: list[PathStep] = []
    while pos < len(path):
        char = path[pos]
        if char == ".":
            match = _NAME_CHARS.match(path, pos + 1)
            if match is None or match.group(0) == "*":
                raise AslError(f"invalid path {path!r} at position {pos}")
            steps.append(match.group(0))
            pos = match.end()
        elif char == "[":
            index = _INDEX.match(path, pos)
            quoted = _QUOTED.match(path, pos)
            if index is not None:
                steps.append(int(index.group(1)))
                pos = index.end()
            elif quoted is not None:
                steps.append(re.sub(r"\\(.)", r"\1", quoted.group(1)))
                pos = quoted.end()
            else:
                raise AslError(f"invalid or unsupported path {path!r} at position {pos}")
        else:
            raise AslError(f"invalid path {path!r} at position {pos}")
    return context, steps


_MISSING = object()


def _walk(data: Any, steps: list[PathStep]) -> Any:
    current = data
    for step in steps:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return _MISSING
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return _MISSING
            current = current[step]
    return current


def get_path(data: Any, path: str, context: Any = None) -> Any:
    """The value at ``path`` in ``data`` (or in ``context`` for ``$$`` paths).

    A path that does not resolve raises ``StatesError("States.Runtime")``.
    """
    is_context, steps = parse_path(path)
    value = _walk(context if is_context else data, steps)
    if value is _MISSING:
        raise StatesError(
            "States.Runtime", f"the JSONPath {path!r} could not be found in the input"
        )
    return value


def _path_present(data: Any, path: str, context: Any = None) -> bool:
    is_context, steps = parse_path(path)
    return _walk(context if is_context else data, steps) is not _MISSING


def set_path(data: Any, path: str, value: Any) -> Any:
    """A copy of ``data`` with ``value`` written at ``path`` (ResultPath semantics).

    ``$`` replaces the whole document; missing intermediate objects are created; writing through
    a non-object raises ``StatesError("States.ResultPathMatchFailure")``.
    """
    is_context, steps = parse_path(path)
    if is_context:
        raise AslError(f"ResultPath {path!r} cannot refer to the context object")
    if not steps:
        return value
    if any(isinstance(step, int) for step in steps):
        raise AslError(f"ResultPath {path!r} cannot contain array indexes")
    if not isinstance(data, dict):
        raise StatesError(
            "States.ResultPathMatchFailure",
            f"unable to apply ResultPath {path!r}: the state input is not a JSON object",
        )
    root: dict[str, Any] = copy.deepcopy(data)
    current = root
    for step in steps[:-1]:
        assert isinstance(step, str)
        child = current.get(step)
        if child is None:
            child = {}
            current[step] = child
        elif not isinstance(child, dict):
            raise StatesError(
                "States.ResultPathMatchFailure",
                f"unable to apply ResultPath {path!r}: {step!r} is not a JSON object",
            )
        current = child
    last = steps[-1]
    assert isinstance(last, str)
    current[last] = value
    return root


# --------------------------------------------------------------------------------------------
# Intrinsic functions and payload templates


class _IntrinsicParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> AslError:
        return AslError(f"invalid intrinsic {self.text!r} at position {self.pos}: {message}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def parse(self) -> tuple[str, list[Any]]:
        call = self.call()
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("trailing characters")
        return call

    def call(self) -> tuple[str, list[Any]]:
        match = re.compile(r"States\.[A-Za-z0-9]+").match(self.text, self.pos)
        if match is None:
            raise self.fail("expected States.<Function>(")
        self.pos = match.end()
        if self.text[self.pos : self.pos + 1] != "(":
            raise self.fail("expected '('")
        self.pos += 1
        args: list[Any] = []
        self.skip_space()
        if self.text[self.pos : self.pos + 1] == ")":
            self.pos += 1
            return match.group(0), args
        while True:
            self.skip_space()
            args.append(self.argument())
            self.skip_space()
            char = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if char == ")":
                return match.group(0), args
            if char != ",":
                raise self.fail("expected ',' or ')'")

    def argument(self) -> Any:
        rest = self.text[self.pos :]
        if rest.startswith("'"):
            return ("literal", self.string())
        if rest.startswith("States."):
            return ("call", self.call())
        if rest.startswith("$"):
            start = self.pos
            depth = 0
            while self.pos < len(self.text):
                char = self.text[self.pos]
                if char == "[":
                    depth += 1
                elif char == "]":
                    depth -= 1
                elif char in ",)" and depth == 0:
                    break
                self.pos += 1
            path = self.text[start : self.pos].strip()
            parse_path(path)
            return ("path", path)
        match = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(
            self.text, self.pos
        )
        if match is None:
            raise self.fail("expected a string, number, boolean, null, path or function")
        self.pos = match.end()
        return ("literal", json.loads(match.group(0)))

    def string(self) -> str:
        # Keeps escapes of { and } for States.Format; resolves \' and \\.
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                out.append(nxt if nxt in "'\\" else "\\" + nxt)
                self.pos += 2
                continue
            if char == "'":
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _format(template: str, args: list[Any]) -> str:
    out: list[str] = []
    remaining = iter(args)
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and i + 1 < len(template) and template[i + 1] in "{}":
            out.append(template[i + 1])
            i += 2
            continue
        if template.startswith("{}", i):
            try:
                value = next(remaining)
            except StopIteration:
                raise StatesError(
                    "States.IntrinsicFailure", "States.Format: more {} than arguments"
                ) from None
            out.append(value if isinstance(value, str) else _compact_json(value))
            i += 2
            continue
        out.append(char)
        i += 1
    if next(remaining, _MISSING) is not _MISSING:
        raise StatesError("States.IntrinsicFailure", "States.Format: more arguments than {}")
    return "".join(out)


def _call_intrinsic(name: str, args: list[Any]) -> Any:
    def need(count: int) -> None:
        if len(args) != count:
            raise StatesError(
                "States.IntrinsicFailure", f"{name} takes {count} argument(s), got {len(args)}"
            )

    if name == "States.Format":
        if not args or not isinstance(args[0], str):
            raise StatesError("States.IntrinsicFailure", "States.Format needs a template string")
        return _format(args[0], args[1:])
    if name == "States.Array":
        return list(args)
    if name == "States.StringToJson":
        need(1)
        if not isinstance(args[0], str):
            raise StatesError("States.IntrinsicFailure", "States.StringToJson needs a string")
        try:
            return json.loads(args[0])
        except json.JSONDecodeError as exc:
            raise StatesError("States.IntrinsicFailure", f"States.StringToJson: {exc}") from exc
    if name == "States.JsonToString":
        need(1)
        return _compact_json(args[0])
    if name == "States.ArrayLength":
        need(1)
        if not isinstance(args[0], list):
            raise StatesError("States.IntrinsicFailure", "States.ArrayLength needs an array")
        return len(args[0])
    if name == "States.ArrayGetItem":
        need(2)
        array, index = args
        if not isinstance(array, list) or not isinstance(index, int) or not 0 <= index < len(array):
            raise StatesError("States.IntrinsicFailure", "States.ArrayGetItem: bad array or index")
        return array[index]
    if name == "States.MathAdd":
        need(2)
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise StatesError("States.IntrinsicFailure", "States.MathAdd needs two integers")
        return args[0] + args[1]
    raise AslError(f"unsupported intrinsic function {name}")


def _evaluate_argument(arg: tuple[str, Any], data: Any, context: Any) -> Any:
    kind, value = arg
    if kind == "literal":
        return value
    if kind == "path":
        return get_path(data, value, context)
    name, args = value
    return _call_intrinsic(name, [_evaluate_argument(a, data, context) for a in args])


def evaluate_intrinsic(expression: str, data: Any, context: Any = None) -> Any:
    """Evaluate one intrinsic-function expression such as ``States.Format('x{}', $.a)``."""
    name, args = _IntrinsicParser(expression).parse()
    return _call_intrinsic(name, [_evaluate_argument(a, data, context) for a in args])


def apply_template(template: Any, data: Any, context: Any = None) -> Any:
    """Resolve a payload template (Parameters, ResultSelector, ItemSelector) against ``data``."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str):
                    raise AslError(f"payload template field {key!r} must be a string")
                if value.startswith("$"):
                    out[key[:-2]] = copy.deepcopy(get_path(data, value, context))
                else:
                    out[key[:-2]] = evaluate_intrinsic(value, data, context)
            else:
                out[key] = apply_template(value, data, context)
        return out
    if isinstance(template, list):
        return [apply_template(item, data, context) for item in template]
    return copy.deepcopy(template)


# --------------------------------------------------------------------------------------------
# Choice rules

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": op.eq,
    "LessThan": op.lt,
    "GreaterThan": op.gt,
    "LessThanEquals": op.le,
    "GreaterThanEquals": op.ge,
}
_OPERAND_KINDS = ("String", "Numeric", "Timestamp")
_ORDERED_OPS = {
    f"{kind}{name}": (kind, ordering)
    for kind in _OPERAND_KINDS
    for name, ordering in _ORDERINGS.items()
}
"""StringEquals … TimestampGreaterThanEquals: the operand kind and the ordering it applies."""
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
_COMPARATORS = (
    *_ORDERED_OPS,
    "StringMatches",
    "BooleanEquals",
)
_ALL_OPERATORS = frozenset(
    [*_COMPARATORS, *(f"{op}Path" for op in _COMPARATORS if op != "StringMatches"), *_TYPE_TESTS]
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _wildcard_match(value: str, pattern: str) -> bool:
    regex: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), value, flags=re.DOTALL) is not None


def _operand(kind: str, value: Any) -> Any:
    """``value`` as a ``kind`` operand, or None when it is not one (a mismatch is false)."""
    if kind == "String":
        return value if isinstance(value, str) else None
    if kind == "Numeric":
        return value if _is_number(value) else None
    return _timestamp(value)


def _compare(operator: str, value: Any, expected: Any) -> bool:
    """One comparison; a type mismatch is simply false, as in AWS."""
    if operator in _ORDERED_OPS:
        kind, ordering = _ORDERED_OPS[operator]
        left, right = _operand(kind, value), _operand(kind, expected)
        return left is not None and right is not None and bool(ordering(left, right))
    if operator == "StringMatches":
        return (
            isinstance(value, str)
            and isinstance(expected, str)
            and _wildcard_match(value, expected)
        )
    if operator == "BooleanEquals":
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    raise AslError(f"unknown comparison operator {operator}")  # pragma: no cover - validated


def _rule_operator(rule: Mapping[str, Any]) -> str | None:
    operators = [key for key in rule if key in _ALL_OPERATORS]
    return operators[0] if len(operators) == 1 else None


def evaluate_rule(rule: Mapping[str, Any], data: Any, context: Any = None) -> bool:
    """Evaluate one Choice rule (boolean expression) against the effective state input."""
    if "And" in rule:
        return all(evaluate_rule(sub, data, context) for sub in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(sub, data, context) for sub in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, context)
    operator = _rule_operator(rule)
    if operator is None:
        raise AslError(f"Choice rule without exactly one comparison operator: {rule}")
    variable = rule["Variable"]
    expected = rule[operator]
    if operator == "IsPresent":
        return _path_present(data, variable, context) is bool(expected)
    value = get_path(data, variable, context)
    if operator in _TYPE_TESTS:
        actual = {
            "IsNull": value is None,
            "IsNumeric": _is_number(value),
            "IsString": isinstance(value, str),
            "IsBoolean": isinstance(value, bool),
            "IsTimestamp": _timestamp(value) is not None,
        }[operator]
        return bool(actual == expected)
    if operator.endswith("Path"):
        return _compare(operator[:-4], value, get_path(data, expected, context))
    return _compare(operator, value, expected)


# --------------------------------------------------------------------------------------------
# Validation

_STATE_TYPES = frozenset(["Task", "Pass", "Choice", "Wait", "Map", "Succeed", "Fail"])
_NEEDS_TRANSITION = frozenset(["Task", "Pass", "Wait", "Map"])


def _validate_rule(state: str, rule: Any, top_level: bool) -> None:
    if not isinstance(rule, dict):
        raise AslError(f"state {state!r}: a Choice rule must be an object")
    if not top_level and "Next" in rule:
        raise AslError(f"state {state!r}: nested Choice rules cannot have Next")
    if "And" in rule or "Or" in rule:
        subs = rule.get("And", rule.get("Or"))
        if not isinstance(subs, list) or not subs:
            raise AslError(f"state {state!r}: And/Or needs a non-empty list of rules")
        for sub in subs:
            _validate_rule(state, sub, top_level=False)
        return
    if "Not" in rule:
        _validate_rule(state, rule["Not"], top_level=False)
        return
    operator = _rule_operator(rule)
    if operator is None:
        raise AslError(
            f"state {state!r}: Choice rule needs exactly one comparison operator: {rule}"
        )
    if "Variable" not in rule:
        raise AslError(f"state {state!r}: Choice rule without Variable: {rule}")
    parse_path(rule["Variable"])
    if operator.endswith("Path"):
        parse_path(rule[operator])


def _validate_paths(name: str, state: Mapping[str, Any]) -> None:
    for key in ("InputPath", "OutputPath", "ResultPath", "ItemsPath", "SecondsPath"):
        value = state.get(key)
        if value is not None:
            try:
                parse_path(value)
            except AslError as exc:
                raise AslError(f"state {name!r}: {key}: {exc}") from exc


def _validate_machine(
    definition: Mapping[str, Any], resources: Mapping[str, Any], where: str = "state machine"
) -> None:
    if not isinstance(definition, Mapping):
        raise AslError(f"{where}: the definition must be a JSON object")
    states = definition.get("States")
    if not isinstance(states, Mapping) or not states:
        raise AslError(f"{where}: 'States' must be a non-empty object")
    start = definition.get("StartAt")
    if start not in states:
        raise AslError(f"{where}: StartAt {start!r} is not a state")

    def check_next(name: str, target: Any, what: str = "Next") -> None:
        if target not in states:
            raise AslError(f"state {name!r}: {what} {target!r} is not a state in {where}")

    for name, state in states.items():
        if not isinstance(state, Mapping):
            raise AslError(f"state {name!r}: must be an object")
        kind = state.get("Type")
        if kind == "Parallel":
            raise AslError(f"state {name!r}: Parallel states are not supported locally")
        if kind not in _STATE_TYPES:
            raise AslError(f"state {name!r}: unknown state Type {kind!r}")
        _validate_paths(name, state)
        if kind in _NEEDS_TRANSITION:
            has_next, has_end = "Next" in state, state.get("End") is True
            if has_next == has_end:
                raise AslError(f"state {name!r}: needs exactly one of Next or End: true")
            if has_next:
                check_next(name, state["Next"])
        elif "Next" in state or "End" in state:
            raise AslError(f"state {name!r}: a {kind} state cannot have Next or End")
        if kind == "Task":
            resource = state.get("Resource")
            if resource not in resources:
                raise AslError(f"state {name!r}: unknown Resource {resource!r}")
        if kind in ("Task", "Map"):
            for retrier in state.get("Retry", []):
                errors = retrier.get("ErrorEquals")
                if not isinstance(errors, list) or not errors:
                    raise AslError(f"state {name!r}: Retry needs a non-empty ErrorEquals")
                if retrier.get("JitterStrategy", "NONE") != "NONE":
                    raise AslError(f"state {name!r}: Retry JitterStrategy is not supported")
            for catcher in state.get("Catch", []):
                errors = catcher.get("ErrorEquals")
                if not isinstance(errors, list) or not errors:
                    raise AslError(f"state {name!r}: Catch needs a non-empty ErrorEquals")
                check_next(name, catcher.get("Next"), "Catch Next")
        elif "Retry" in state or "Catch" in state:
            raise AslError(f"state {name!r}: a {kind} state cannot have Retry or Catch")
        if kind == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                raise AslError(f"state {name!r}: Choices must be a non-empty list")
            for rule in choices:
                _validate_rule(name, rule, top_level=True)
                check_next(name, rule.get("Next"), "Choice Next")
            if "Default" in state:
                check_next(name, state["Default"], "Default")
        if kind == "Wait":
            keys = [
                k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state
            ]
            if len(keys) != 1:
                raise AslError(
                    f"state {name!r}: needs exactly one of Seconds, SecondsPath, Timestamp, "
                    "TimestampPath"
                )
        if kind == "Map":
            _validate_map(name, state, resources)
            processor = state.get("ItemProcessor", state.get("Iterator"))
            if processor is None:
                raise AslError(f"state {name!r}: Map needs an ItemProcessor or Iterator")
            _validate_machine(processor, resources, where=f"the iterator of Map {name!r}")


_DISTRIBUTED_ONLY = (
    "ItemReader",
    "ItemBatcher",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
    "Label",
)
_UNSUPPORTED_MAP_FIELDS = (
    "ResultWriter",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)


def _map_mode(state: Mapping[str, Any]) -> str:
    processor = state.get("ItemProcessor") or {}
    mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
    return str(mode)


def _non_negative_int(name: str, key: str, value: Any, maximum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise AslError(f"state {name!r}: {key} must be an integer >= 0, got {value!r}")
    if maximum is not None and value > maximum:
        raise AslError(f"state {name!r}: {key} must be <= {maximum}, got {value}")


def _validate_map(name: str, state: Mapping[str, Any], resources: Mapping[str, Any]) -> None:
    mode = _map_mode(state)
    if mode not in ("INLINE", "DISTRIBUTED"):
        raise AslError(f"state {name!r}: ProcessorConfig.Mode must be INLINE or DISTRIBUTED")
    for unsupported in _UNSUPPORTED_MAP_FIELDS:
        if unsupported in state:
            raise AslError(f"state {name!r}: {unsupported} is not supported locally")
    if mode == "INLINE":
        for field_name in _DISTRIBUTED_ONLY:
            if field_name in state:
                raise AslError(f"state {name!r}: {field_name} needs a DISTRIBUTED ItemProcessor")
    if "MaxConcurrency" in state:
        _non_negative_int(name, "MaxConcurrency", state["MaxConcurrency"])
    if "ToleratedFailurePercentage" in state:
        value = state["ToleratedFailurePercentage"]
        if not _is_number(value) or not 0 <= value <= 100:
            raise AslError(f"state {name!r}: ToleratedFailurePercentage must be in 0..100")
    if "ToleratedFailureCount" in state:
        _non_negative_int(name, "ToleratedFailureCount", state["ToleratedFailureCount"])
    reader = state.get("ItemReader")
    if reader is not None:
        if "ItemsPath" in state:
            raise AslError(f"state {name!r}: ItemsPath and ItemReader exclude each other")
        if reader.get("Resource") != S3_LIST_OBJECTS:
            raise AslError(
                f"state {name!r}: ItemReader Resource {reader.get('Resource')!r} is not supported "
                f"locally (only {S3_LIST_OBJECTS})"
            )
        if S3_LIST_OBJECTS not in resources:
            raise AslError(f"state {name!r}: no binding for the ItemReader {S3_LIST_OBJECTS}")
        parameters = reader.get("Parameters")
        if not isinstance(parameters, Mapping) or not (
            "Bucket" in parameters or "Bucket.$" in parameters
        ):
            raise AslError(f"state {name!r}: ItemReader Parameters need a Bucket")
        config = reader.get("ReaderConfig") or {}
        if set(config) - {"MaxItems"}:
            raise AslError(f"state {name!r}: ReaderConfig {sorted(config)}: only MaxItems here")
        if "MaxItems" in config:
            _non_negative_int(name, "ReaderConfig.MaxItems", config["MaxItems"], 100_000_000)
    batcher = state.get("ItemBatcher")
    if batcher is not None:
        known = {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}
        if set(batcher) - known:
            raise AslError(
                f"state {name!r}: ItemBatcher fields {sorted(set(batcher) - known)} are not "
                "supported locally"
            )
        if "MaxItemsPerBatch" not in batcher and "MaxInputBytesPerBatch" not in batcher:
            raise AslError(f"state {name!r}: ItemBatcher needs MaxItemsPerBatch or ...Bytes...")
        for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
            if key in batcher:
                _non_negative_int(name, f"ItemBatcher.{key}", batcher[key])
                if batcher[key] == 0:
                    raise AslError(f"state {name!r}: ItemBatcher.{key} must be > 0")
        if "MaxInputBytesPerBatch" in batcher and batcher["MaxInputBytesPerBatch"] > (
            MAX_CHILD_INPUT_BYTES
        ):
            raise AslError(f"state {name!r}: MaxInputBytesPerBatch is at most 256 KiB")
        if "BatchInput" in batcher and not isinstance(batcher["BatchInput"], Mapping):
            raise AslError(f"state {name!r}: ItemBatcher.BatchInput must be a JSON object")


# --------------------------------------------------------------------------------------------
# Execution


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
        _validate_machine(definition, resources)
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
                "Id": f"arn:aws:states:local:000000000000:execution:{self.name}:{execution.name}",
                "Name": execution.name,
                "Input": copy.deepcopy(input),
                "StartTime": datetime.fromtimestamp(start, UTC).isoformat(),
            },
            "StateMachine": {
                "Id": f"arn:aws:states:local:000000000000:stateMachine:{self.name}",
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
        data = _select(raw, state.get("InputPath", "$"), context)
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
            return _select(data, state.get("OutputPath", "$"), context), following
        if kind == "Wait":
            self._wait(state, data, context)
            return _select(data, state.get("OutputPath", "$"), context), following
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
                caught = _put_result(raw, catcher.get("ResultPath", "$"), error_output)
                return caught, catcher["Next"]
            if "ResultSelector" in state:
                result = apply_template(state["ResultSelector"], result, context)
        combined = _put_result(raw, state.get("ResultPath", "$"), result)
        return _select(combined, state.get("OutputPath", "$"), context), following

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
        moment = _timestamp(stamp)
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
        if _map_mode(state) == "DISTRIBUTED":
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
        children = _child_inputs(name, state.get("ItemBatcher"), selected, data, context)
        weights = [len(c["Items"]) if "ItemBatcher" in state else 1 for c in children]
        total = len(items)
        run.event("MapRunStarted", name=name, items=total, childExecutions=len(children))
        processor: Mapping[str, Any] = state["ItemProcessor"]
        tolerance = _FailureTolerance(state, total)
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


def _child_inputs(
    name: str, batcher: Mapping[str, Any] | None, items: list[Any], data: Any, context: Any
) -> list[Any]:
    """The input of each child execution: an item, or ``{"Items": [...], "BatchInput": ...}``."""
    if batcher is None:
        return items
    extra: dict[str, Any] = {}
    if "BatchInput" in batcher:
        extra["BatchInput"] = apply_template(batcher["BatchInput"], data, context)
    max_items = batcher.get("MaxItemsPerBatch", 0)
    max_bytes = min(
        batcher.get("MaxInputBytesPerBatch", MAX_CHILD_INPUT_BYTES), MAX_CHILD_INPUT_BYTES
    )
    empty = len(_compact_json({"Items": [], **extra}).encode())
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = empty
    for item in items:
        item_bytes = len(_compact_json(item).encode()) + (1 if current else 0)
        if current and ((max_items and len(current) >= max_items) or size + item_bytes > max_bytes):
            batches.append(current)
            current, size, item_bytes = [], empty, item_bytes - 1
        if size + item_bytes > max_bytes:
            raise StatesError(
                "States.Runtime",
                f"Map {name!r}: an item does not fit in a batch of {max_bytes} bytes",
            )
        current.append(item)
        size += item_bytes
    if current:
        batches.append(current)
    return [{"Items": batch, **copy.deepcopy(extra)} for batch in batches]


class _FailureTolerance:
    """ToleratedFailurePercentage/Count of a Map run: failed items against its thresholds."""

    def __init__(self, state: Mapping[str, Any], total: int) -> None:
        self.percentage = state.get("ToleratedFailurePercentage")
        self.count = state.get("ToleratedFailureCount")
        if self.percentage is None and self.count is None:
            self.count = 0
        self.total = total
        self.failed_items = 0
        self.first: StatesError | None = None
        self.lock = threading.Lock()

    def failed(self, items: int, error: StatesError) -> None:
        with self.lock:
            self.failed_items += items
            self.first = self.first or error

    def exceeded(self) -> bool:
        with self.lock:
            failed = self.failed_items
        if self.count is not None and failed > self.count:
            return True
        return (
            self.percentage is not None
            and self.total > 0
            and 100 * failed / self.total > self.percentage
        )

    def describe(self, name: str) -> str:
        first = f"; first: {self.first.error}: {self.first.cause}" if self.first else ""
        return (
            f"Map {name!r}: {self.failed_items} of {self.total} items failed, over the tolerated "
            f"failures{first}"
        )


def _select(data: Any, path: str | None, context: Any) -> Any:
    """InputPath/OutputPath: ``null`` gives ``{}``, otherwise the value at the path."""
    if path is None:
        return {}
    return get_path(data, path, context)


def _put_result(raw: Any, path: str | None, result: Any) -> Any:
    """ResultPath: ``null`` keeps the raw input, otherwise ``result`` is written into it."""
    if path is None:
        return copy.deepcopy(raw)
    return set_path(raw, path, result)
