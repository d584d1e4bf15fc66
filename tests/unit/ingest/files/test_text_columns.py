"""Vectorised reading of times and numbers: equal to Python's, or left to Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.ingest.files.text_columns import (
    PLAIN_DECIMAL,
    WHOLE_NUMBER,
    iso_times,
    plain_numbers,
)

EPOCH = datetime(1970, 1, 1)


def python_reading(text: str) -> tuple[int, int | None] | None:
    """(wall µs since 1970, offset µs or None) as ``datetime.fromisoformat`` reads it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    offset = moment.utcoffset()
    wall = (moment.replace(tzinfo=None) - EPOCH) // timedelta(microseconds=1)
    return wall, None if offset is None else offset // timedelta(microseconds=1)


def assert_read_as_python(texts: list[str]) -> np.ndarray:
    times = iso_times(pa.array(texts, pa.string()))
    for index, text in enumerate(texts):
        if times.read[index]:
            offset = int(times.offset_us[index]) if times.aware[index] else None
            assert python_reading(text) == (int(times.wall_us[index]), offset), text
    return times.read


instants = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30))
zones = st.sampled_from([None, UTC, timezone(timedelta(hours=-3, minutes=-30)), timezone(
    timedelta(hours=13, minutes=45))])  # fmt: skip


@given(st.lists(st.tuples(instants, zones, st.sampled_from(["T", " "]),
                          st.sampled_from(["seconds", "milliseconds", "microseconds"])),
                min_size=1, max_size=30))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_strict_iso_texts_are_read_as_fromisoformat_reads_them(
    cases: list[tuple[datetime, timezone | None, str, str]],
) -> None:
    texts = [
        moment.replace(tzinfo=zone).isoformat(sep=sep, timespec=spec).replace("+00:00", "Z")
        for moment, zone, sep, spec in cases
    ]
    assert assert_read_as_python(texts).all()


def test_other_shapes_and_invalid_values_are_left_to_python() -> None:
    texts = [
        "2026-01-05T07:30",  # valid ISO, not the strict shape
        "2026-01-05x07:30:00",  # valid for Python: any separator
        "2026-01-05T07:30:00.1",
        "2026-01-05T07:30:00+01:60",  # Python adds the minutes up
        "2026-02-29T07:30:00",
        "2026-01-05T24:00:00",
        "2026-01-05T07:30:60",
        "2026-13-05T07:30:00",
        "2026-01-05T07:30:00+24:00",
        "1899-12-31T23:59:59",
        "2026-01-05T07:30:00z",
        "２026-01-05T07:30:00",
        "",
        "yesterday",
    ]
    assert not assert_read_as_python(texts).any()
    assert assert_read_as_python(["2024-02-29 23:59:59.999-00:00"]).all()


@given(st.lists(st.from_regex(r"\A[0-9]{1,9}(\.[0-9]{1,9})?\Z") | st.text(max_size=6),
                min_size=1, max_size=30))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_plain_decimals_equal_python_floats(texts: list[str]) -> None:
    values, read = plain_numbers(pa.array(texts, pa.string()), PLAIN_DECIMAL, pa.float64())
    for text, value, ok in zip(texts, values, read, strict=True):
        if ok:
            assert float(text) == value
        whole, _, fraction = text.partition(".")
        plain = text.isascii() and whole.isdigit() and len(whole) <= 9
        assert ok == (plain and (fraction.isdigit() or "." not in text))


@pytest.mark.parametrize(
    ("text", "read"), [("-300", True), ("60", True), ("+60", False), (" 60", False), ("", False)]
)
def test_whole_numbers(text: str, read: bool) -> None:
    values, ok = plain_numbers(pa.array([text], pa.string()), WHOLE_NUMBER, pa.int64())
    assert bool(ok[0]) == read
    if read:
        assert int(values[0]) == int(text)
