"""Choice rules: the comparison operators, the type tests and And/Or/Not."""

from __future__ import annotations

import operator as op
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from glucosestream.local.stepfunctions.errors import AslError
from glucosestream.local.stepfunctions.paths import get_path, path_present

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


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_timestamp(value: Any) -> datetime | None:
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
        return value if is_number(value) else None
    return parse_timestamp(value)


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


def rule_operator(rule: Mapping[str, Any]) -> str | None:
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
    operator = rule_operator(rule)
    if operator is None:
        raise AslError(f"Choice rule without exactly one comparison operator: {rule}")
    variable = rule["Variable"]
    expected = rule[operator]
    if operator == "IsPresent":
        return path_present(data, variable, context) is bool(expected)
    value = get_path(data, variable, context)
    if operator in _TYPE_TESTS:
        actual = {
            "IsNull": value is None,
            "IsNumeric": is_number(value),
            "IsString": isinstance(value, str),
            "IsBoolean": isinstance(value, bool),
            "IsTimestamp": parse_timestamp(value) is not None,
        }[operator]
        return bool(actual == expected)
    if operator.endswith("Path"):
        return _compare(operator[:-4], value, get_path(data, expected, context))
    return _compare(operator, value, expected)
