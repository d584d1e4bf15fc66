"""Nightscout's find[...] on entries, as cgm-remote-monitor's lib/server/query.js reads it."""

from __future__ import annotations

import pytest

from glucosestream.ingest.nightscout_find import (
    DEFAULT_WINDOW_MS,
    Condition,
    FindError,
    matches,
    parse_find,
)

NOW = 1_767_600_000_000  # 2026-01-05T08:00:00Z
ENTRY = {
    "type": "sgv",
    "sgv": 112,
    "date": NOW - 600_000,
    "dateString": "2026-01-05T07:50:00.000Z",
    "device": "xDrip-DexcomG6",
    "direction": "Flat",
}


def found(query: dict[str, list[str]]) -> bool:
    return matches(ENTRY, parse_find(query, NOW))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"find[date][$gt]": [str(NOW - 600_000)]}, False),
        ({"find[date][$gte]": [str(NOW - 600_000)]}, True),
        ({"find[date][$lt]": [str(NOW)]}, True),
        ({"find[date][$lte]": [str(NOW - 600_001)]}, False),
        ({"find[date][$gte]": ["2026-01-05T07:50:00Z"]}, True),  # ISO taken as its instant
        ({"find[date][$gte]": ["2026-01-05T08:50:00 01:00"]}, True),  # '+' sent unescaped
        ({"find[sgv][$gte]": ["100"], "find[sgv][$lt]": ["120"]}, True),
        ({"find[sgv][$gt]": ["112.9"]}, False),  # parseInt: 112
        ({"find[sgv]": ["112"]}, True),
        ({"find[type]": ["mbg"]}, False),
        ({"find[type][$ne]": ["mbg"]}, True),
        ({"find[type][$in]": ["sgv|mbg"]}, True),
        ({"find[type][$in][]": ["cal", "mbg"]}, False),
        ({"find[type][$nin]": ["cal"]}, True),
        ({"find[dateString][$gte]": ["2026-01-05T07:45"]}, True),  # string comparison
        ({"find[dateString][$gte]": ["2026-01-06"]}, False),
        ({"count": ["10"]}, True),  # not a find parameter
    ],
)
def test_operators_compare_as_nightscout_does(query: dict[str, list[str]], expected: bool) -> None:
    assert found(query) is expected


def test_without_a_date_constraint_only_the_last_four_days_are_searched() -> None:
    assert parse_find({}, NOW) == [Condition("date", "$gte", NOW - DEFAULT_WINDOW_MS)]
    old = {**ENTRY, "date": NOW - DEFAULT_WINDOW_MS - 1}
    assert not matches(old, parse_find({"find[sgv][$gt]": ["0"]}, NOW))
    assert matches(old, parse_find({"find[date][$gt]": ["0"]}, NOW))
    assert matches(old, parse_find({"find[dateString][$gt]": ["2000"]}, NOW))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"find[date][$regex]": ["1"]}, "unknown operator $regex"),
        ({"find[date][$gt]": ["yesterday"]}, "neither epoch ms nor ISO 8601"),
        ({"find[date][$gt]": ["2026-01-05T07:50:00"]}, "with an offset"),
        ({"find[sgv][$gt]": ["high"]}, "'high' is not a whole number"),
        ({"find[noise][$gt]": ["1"]}, "cannot be found by noise; use date, dateString"),
        ({"find[date]$gt": ["1"]}, "expected find[<field>]"),
    ],
)
def test_what_nightscout_would_not_understand_is_refused(
    query: dict[str, list[str]], reason: str
) -> None:
    with pytest.raises(FindError, match=reason.replace("$", r"\$").replace("[", r"\[")):
        parse_find(query, NOW)
