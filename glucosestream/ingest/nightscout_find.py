"""Nightscout's ``find`` query on entries: ``find[<field>][<operator>]=<value>``.

As Nightscout (cgm-remote-monitor ``lib/server/query.js``) reads it: ``date`` and ``sgv`` values
are integers (``parseInt``); other fields compare as strings — ``dateString`` therefore compares
as ISO 8601 text, which orders correctly only between strings of the same shape, as in
Nightscout. ``find[type]=sgv`` (no operator) means ``$eq``. When the query constrains neither
``date`` nor ``dateString``, Nightscout adds ``date >= now - 4 days``; so does this.

Where we go further than Nightscout, and why: a non-numeric ``date`` value is parsed as an ISO
8601 time and compared as epoch ms (Nightscout rewrites it to an ISO string and then compares
that string with the numeric field, which matches nothing — no client relies on that). Anything
Nightscout would not understand — an unknown operator, a field entries do not have, a value that
is not a number where one is needed — is refused with the reason, rather than ignored: a
follower that asks for ``$gt`` and silently gets everything re-downloads its history forever.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_WINDOW_MS = 4 * 24 * 3_600_000
"""Nightscout's ``deltaAgo`` (TWO_DAYS * 2) for queries without a date constraint."""
OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")


@dataclass(frozen=True)
class Searchable:
    """What a collection can be found by: its fields, which of them are integers, and the field
    Nightscout's default window constrains (an integer ms field, or an ISO string field)."""

    fields: tuple[str, ...]
    integer_fields: frozenset[str]
    date_field: str
    date_fields: tuple[str, ...]
    """Any constraint on one of these disables the default window."""


ENTRIES = Searchable(
    fields=("date", "dateString", "sgv", "type", "device", "direction"),
    integer_fields=frozenset({"date", "sgv"}),
    date_field="date",
    date_fields=("date", "dateString"),
)
TREATMENTS = Searchable(
    # lib/api/treatments: insulin, carbs and glucose are parseInt'd; created_at is ISO text.
    # uuid: xDrip+ finds its own treatment by it (find[uuid]) before deleting it.
    fields=(
        "created_at",
        "eventType",
        "enteredBy",
        "_id",
        "uuid",
        "insulin",
        "carbs",
        "glucose",
        "mills",
    ),
    integer_fields=frozenset({"insulin", "carbs", "glucose", "mills"}),
    date_field="created_at",
    date_fields=("created_at", "mills"),
)
DEVICESTATUS = Searchable(
    fields=("created_at", "device", "_id", "mills"),
    integer_fields=frozenset({"mills"}),
    date_field="created_at",
    date_fields=("created_at", "mills"),
)
PROFILE = Searchable(
    # lib/server/profile.js's list_query: any field; these are the ones a profile has.
    fields=("created_at", "startDate", "defaultProfile", "enteredBy", "_id", "mills"),
    integer_fields=frozenset({"mills"}),
    date_field="created_at",
    date_fields=("created_at", "startDate", "mills"),
)
FOOD = Searchable(
    fields=("type", "category", "subcategory", "name", "hidden", "_id", "created_at", "mills"),
    integer_fields=frozenset({"mills"}),
    date_field="created_at",
    date_fields=("created_at", "mills"),
)
FIELDS = ENTRIES.fields
INTEGER_FIELDS = ENTRIES.integer_fields
_KEY = re.compile(r"^find\[([^\[\]]+)\](?:\[(\$[a-z]+)\])?(?:\[\d*\])?$")


class FindError(ValueError):
    """A ``find`` Nightscout would not understand; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: str
    value: int | str | tuple[int | str, ...]

    def holds(self, entry: Mapping[str, Any]) -> bool:
        actual = entry.get(self.field)
        if actual is None:
            return self.operator in ("$ne", "$nin")
        if self.operator in ("$in", "$nin"):
            assert isinstance(self.value, tuple)
            inside = actual in self.value
            return inside if self.operator == "$in" else not inside
        return _COMPARE[self.operator](actual, self.value)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda a, b: bool(a == b),
    "$ne": lambda a, b: bool(a != b),
    "$gt": lambda a, b: bool(a > b),
    "$gte": lambda a, b: bool(a >= b),
    "$lt": lambda a, b: bool(a < b),
    "$lte": lambda a, b: bool(a <= b),
}


def parse_find(
    query: Mapping[str, Sequence[str]],
    now_ms: int,
    searchable: Searchable = ENTRIES,
    *,
    default_window: bool = True,
) -> list[Condition]:
    """The conditions of the ``find[...]`` parameters of a query string (each key with all its
    values, as multi-value query parameters arrive), plus Nightscout's default date window
    (API v1; ``default_window=False`` for v3, which has none)."""
    conditions: list[Condition] = []
    for key, values in query.items():
        if not key.startswith("find"):
            continue
        match = _KEY.match(key)
        if match is None:
            raise FindError(f"{key}: expected find[<field>] or find[<field>][<operator>]")
        field, operator = match.group(1), match.group(2) or "$eq"
        if field not in searchable.fields:
            raise FindError(
                f"{key}: cannot be found by {field}; use {', '.join(searchable.fields)}"
            )
        if operator not in OPERATORS:
            raise FindError(f"{key}: unknown operator {operator}; use {', '.join(OPERATORS)}")
        if operator in ("$in", "$nin"):
            items = [item for value in values for item in value.split("|") if item != ""]
            typed = tuple(_typed(key, field, item, searchable) for item in items)
            conditions.append(Condition(field, operator, typed))
        else:
            conditions.extend(
                Condition(field, operator, _typed(key, field, v, searchable)) for v in values
            )
    if default_window and not any(c.field in searchable.date_fields for c in conditions):
        since = now_ms - DEFAULT_WINDOW_MS
        if searchable.date_field in searchable.integer_fields:
            conditions.append(Condition(searchable.date_field, "$gte", since))
        else:
            conditions.append(Condition(searchable.date_field, "$gte", iso_utc(since)))
    return conditions


def iso_utc(epoch_ms: int) -> str:
    """Nightscout's ISO form: UTC with milliseconds and Z (how created_at compares as text)."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def date_bounds(conditions: Sequence[Condition]) -> tuple[int | None, int | None]:
    """The narrowest [from, to] (ms, inclusive) the ``date`` conditions allow, so the store
    reads one key range; :func:`matches` still checks every condition."""
    low: int | None = None
    high: int | None = None
    for c in conditions:
        if c.field != "date" or not isinstance(c.value, int):
            continue
        if c.operator in ("$gt", "$gte", "$eq"):
            bound = c.value + (1 if c.operator == "$gt" else 0)
            low = bound if low is None else max(low, bound)
        if c.operator in ("$lt", "$lte", "$eq"):
            bound = c.value - (1 if c.operator == "$lt" else 0)
            high = bound if high is None else min(high, bound)
    return low, high


def matches(entry: Mapping[str, Any], conditions: Sequence[Condition]) -> bool:
    return all(condition.holds(entry) for condition in conditions)


def _typed(key: str, field: str, value: str, searchable: Searchable) -> int | str:
    if field not in searchable.integer_fields:
        return value
    text = value.strip()
    if re.fullmatch(r"[+-]?\d+(\.\d*)?", text):
        return int(float(text)) if "." in text else int(text)  # parseInt keeps the integer part
    if field in ("date", "mills"):
        try:
            moment = datetime.fromisoformat(text.replace(" ", "+").replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return int(moment.timestamp() * 1000)
        raise FindError(f"{key}: {value!r} is neither epoch ms nor ISO 8601 with an offset")
    raise FindError(f"{key}: {value!r} is not a whole number")
