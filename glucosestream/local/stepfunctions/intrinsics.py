"""Intrinsic functions (``States.Format(...)`` and the others listed in the package docstring)
and the payload templates (Parameters, ResultSelector, ItemSelector) that call them."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from glucosestream.local.stepfunctions.errors import AslError, StatesError
from glucosestream.local.stepfunctions.paths import get_path, parse_path


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


_NO_MORE = object()


def compact_json(value: Any) -> str:
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
            out.append(value if isinstance(value, str) else compact_json(value))
            i += 2
            continue
        out.append(char)
        i += 1
    if next(remaining, _NO_MORE) is not _NO_MORE:
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
        return compact_json(args[0])
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
