"""The JSONPath subset ASL needs, and the input/output processing fields built on it.

Reference paths (``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``, and ``$$...`` on the context object)
are read by InputPath, OutputPath, ItemsPath and Choice rules, and written by ResultPath.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from glucosestream.local.stepfunctions.errors import AslError, StatesError

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


def path_present(data: Any, path: str, context: Any = None) -> bool:
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


def select(data: Any, path: str | None, context: Any) -> Any:
    """InputPath/OutputPath: ``null`` gives ``{}``, otherwise the value at the path."""
    if path is None:
        return {}
    return get_path(data, path, context)


def put_result(raw: Any, path: str | None, result: Any) -> Any:
    """ResultPath: ``null`` keeps the raw input, otherwise ``result`` is written into it."""
    if path is None:
        return copy.deepcopy(raw)
    return set_path(raw, path, result)
