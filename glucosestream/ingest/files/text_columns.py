"""Arrow string columns → numbers and instants, vectorised, for the values whose reading is
certain to equal Python's own (``datetime.fromisoformat``, ``float``, ``int``).

Each parser recognises only a strict, common shape and marks every other value as not read: the
caller reads those one by one with Python, which either accepts them (``2026-01-05T07:30``,
``1e2``, `` 99 ``) or names the line and the reason. So nothing is read differently from the
row-by-row reader; the fast shapes are only where the work goes.

ISO 8601 shape: ``YYYY-MM-DD[T| ]HH:MM:SS``, then optionally ``.fff`` or ``.ffffff``, then
optionally ``Z`` or ``±HH:MM`` (years 1900–2200, so that every instant in microseconds is exact
in a float64, as the row-by-row arithmetic needs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

US_PER_SECOND = 1_000_000
_BASE = 19
"""``YYYY-MM-DDTHH:MM:SS``"""
_LAYOUTS = {
    _BASE + fraction + zone: (fraction, zone) for fraction in (0, 4, 7) for zone in (0, 1, 6)
}
"""Length of the text → (length of ``.fff``/``.ffffff`` or 0, length of ``Z``/``±HH:MM`` or 0);
every combination has its own length."""
_FIRST_YEAR, _LAST_YEAR = 1900, 2200
_DIGIT_0 = ord("0")


@dataclass(frozen=True)
class IsoTimes:
    """ISO 8601 texts read: where ``read`` is False the value is left to the caller."""

    read: np.ndarray
    """bool"""
    wall_us: np.ndarray
    """int64: the written date and time as microseconds since 1970-01-01T00:00 (no offset
    applied)."""
    offset_us: np.ndarray
    """int64: the written UTC offset (0 for ``Z``); meaningful where ``aware``."""
    aware: np.ndarray
    """bool: an offset or ``Z`` was written."""


def iso_times(column: pa.StringArray) -> IsoTimes:
    """Read the texts of the strict ISO 8601 shape (module docstring)."""
    n = len(column)
    result = IsoTimes(
        np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, bool)
    )
    starts, data = _offsets_and_bytes(column)
    lengths = np.diff(starts)
    for length, (fraction, zone) in _LAYOUTS.items():
        rows = np.flatnonzero(lengths == length)
        if len(rows):
            _read_layout(_characters(data, starts[rows], length), fraction, zone, rows, result)
    return result


def _offsets_and_bytes(column: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's start in the data buffer (n + 1 entries) and the buffer's bytes."""
    _, offsets_buffer, data_buffer = column.buffers()
    assert offsets_buffer is not None
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        column.offset : column.offset + len(column) + 1
    ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    return offsets.astype(np.int64), data


def _characters(data: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """The ``length`` bytes from each start, as a (rows, length) matrix."""
    if len(starts) > 1 and bool(np.all(np.diff(starts) == length)):  # back to back: a view
        first = int(starts[0])
        return data[first : first + len(starts) * length].reshape(-1, length)
    return np.stack([data[starts + j] for j in range(length)], axis=1)


def _digits(chars: np.ndarray) -> np.ndarray:
    """Each byte's value as a decimal digit: 0-9 for ``0``-``9``, above 9 for every other byte
    (unsigned arithmetic wraps the bytes below ``0`` round)."""
    digits: np.ndarray = chars - np.uint8(_DIGIT_0)
    return digits


def _number(digits: np.ndarray, first: int, count: int) -> np.ndarray:
    """The decimal number in columns ``first`` … ``first + count - 1`` of :func:`_digits`
    (meaningful where they all are digits)."""
    value = digits[:, first].astype(np.int32)
    for column in range(first + 1, first + count):
        value = value * 10 + digits[:, column]
    return value


def _all_digits(digits: np.ndarray, columns: list[int]) -> np.ndarray:
    ok: np.ndarray = digits[:, columns].max(axis=1) <= 9
    return ok


_DATE_TIME_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
"""The digit columns of ``YYYY-MM-DDTHH:MM:SS``."""


def _read_layout(
    chars: np.ndarray, fraction: int, zone: int, rows: np.ndarray, out: IsoTimes
) -> None:
    digits = _digits(chars)
    year = _number(digits, 0, 4)
    month = _number(digits, 5, 2)
    day = _number(digits, 8, 2)
    hour = _number(digits, 11, 2)
    minute = _number(digits, 14, 2)
    second = _number(digits, 17, 2)
    ok = _all_digits(digits, _DATE_TIME_DIGITS)
    ok &= (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
    ok &= (chars[:, 10] == ord("T")) | (chars[:, 10] == ord(" "))
    ok &= (chars[:, 13] == ord(":")) & (chars[:, 16] == ord(":"))
    ok &= (year >= _FIRST_YEAR) & (year <= _LAST_YEAR) & (month >= 1) & (month <= 12)
    year_month = np.clip((year - _FIRST_YEAR) * 12 + month - 1, 0, len(_MONTH_FIRST_DAY) - 1)
    ok &= (day >= 1) & (day <= _MONTH_LENGTH[year_month])
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    micro = np.zeros(len(chars), np.int64)
    if fraction:
        count = fraction - 1
        micro = _number(digits, _BASE + 1, count).astype(np.int64) * 10 ** (6 - count)
        ok &= _all_digits(digits, list(range(_BASE + 1, _BASE + fraction)))
        ok &= chars[:, _BASE] == ord(".")
    offset = np.zeros(len(chars), np.int64)
    at = _BASE + fraction
    if zone == 1:
        ok &= chars[:, at] == ord("Z")
    elif zone:
        sign = np.where(chars[:, at] == ord("-"), -1, 1)
        offset_hours = _number(digits, at + 1, 2)
        offset_minutes = _number(digits, at + 4, 2)
        ok &= ((chars[:, at] == ord("+")) | (chars[:, at] == ord("-"))) & (
            chars[:, at + 3] == ord(":")
        )
        ok &= _all_digits(digits, [at + 1, at + 2, at + 4, at + 5])
        ok &= (offset_hours <= 23) & (offset_minutes <= 59)
        offset = sign * (offset_hours * 3600 + offset_minutes * 60).astype(np.int64) * US_PER_SECOND
    days = _MONTH_FIRST_DAY[year_month] + day - 1
    seconds = days * 86_400 + (hour * 3600 + minute * 60 + second)
    out.read[rows] = ok
    out.wall_us[rows] = seconds * US_PER_SECOND + micro
    out.offset_us[rows] = offset
    out.aware[rows] = zone > 0


def _month_table() -> tuple[np.ndarray, np.ndarray]:
    """For each month of the years read (index ``(year - 1900) * 12 + month - 1``): its first
    day as days since 1970-01-01 (proleptic Gregorian), and its length in days."""
    months = np.arange(f"{_FIRST_YEAR}-01", f"{_LAST_YEAR + 1}-02", dtype="datetime64[M]")
    first = months.astype("datetime64[D]").astype(np.int64)
    return first[:-1], np.diff(first).astype(np.int32)


_MONTH_FIRST_DAY, _MONTH_LENGTH = _month_table()

PLAIN_DECIMAL = r"^[0-9]{1,9}(\.[0-9]{1,9})?$"
WHOLE_NUMBER = r"^-?[0-9]{1,9}$"


def plain_numbers(
    column: pa.StringArray, pattern: str, kind: pa.DataType
) -> tuple[np.ndarray, np.ndarray]:
    """Values of the texts matching ``pattern`` (:data:`PLAIN_DECIMAL`: digits with an optional
    fraction; :data:`WHOLE_NUMBER`), cast to ``kind``; and where they matched. Arrow's
    conversion of these shapes is correctly rounded, as Python's ``float`` is."""
    matched = pc.match_substring_regex(column, pattern)
    values = pc.cast(pc.if_else(matched, column, "0"), kind)
    return values.to_numpy(zero_copy_only=False), matched.to_numpy(zero_copy_only=False)
