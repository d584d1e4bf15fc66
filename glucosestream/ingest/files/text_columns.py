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


def _number(chars: np.ndarray, first: int, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """The decimal number in columns ``first`` … ``first + digits - 1``, and where all were
    ASCII digits."""
    values = chars[:, first : first + digits].astype(np.int64) - _DIGIT_0
    ok = np.all((values >= 0) & (values <= 9), axis=1)
    weights = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    return values @ weights, ok


def _read_layout(
    chars: np.ndarray, fraction: int, zone: int, rows: np.ndarray, out: IsoTimes
) -> None:
    year, ok_year = _number(chars, 0, 4)
    month, ok_month = _number(chars, 5, 2)
    day, ok_day = _number(chars, 8, 2)
    hour, ok_hour = _number(chars, 11, 2)
    minute, ok_minute = _number(chars, 14, 2)
    second, ok_second = _number(chars, 17, 2)
    ok = ok_year & ok_month & ok_day & ok_hour & ok_minute & ok_second
    ok &= (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
    ok &= (chars[:, 10] == ord("T")) | (chars[:, 10] == ord(" "))
    ok &= (chars[:, 13] == ord(":")) & (chars[:, 16] == ord(":"))
    ok &= (year >= _FIRST_YEAR) & (year <= _LAST_YEAR) & (month >= 1) & (month <= 12)
    ok &= (day >= 1) & (day <= _days_in_month(year, month))
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    micro = np.zeros(len(chars), np.int64)
    if fraction:
        digits = fraction - 1
        micro, ok_fraction = _number(chars, _BASE + 1, digits)
        micro *= 10 ** (6 - digits)
        ok &= ok_fraction & (chars[:, _BASE] == ord("."))
    offset = np.zeros(len(chars), np.int64)
    at = _BASE + fraction
    if zone == 1:
        ok &= chars[:, at] == ord("Z")
    elif zone:
        sign = np.where(chars[:, at] == ord("-"), -1, 1)
        offset_hours, ok_offset_hours = _number(chars, at + 1, 2)
        offset_minutes, ok_offset_minutes = _number(chars, at + 4, 2)
        ok &= ((chars[:, at] == ord("+")) | (chars[:, at] == ord("-"))) & (
            chars[:, at + 3] == ord(":")
        )
        ok &= ok_offset_hours & ok_offset_minutes & (offset_hours <= 23) & (offset_minutes <= 59)
        offset = sign * (offset_hours * 3600 + offset_minutes * 60) * US_PER_SECOND
    seconds = _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    out.read[rows] = ok
    out.wall_us[rows] = seconds * US_PER_SECOND + micro
    out.offset_us[rows] = offset
    out.aware[rows] = zone > 0


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
    in_month: np.ndarray = days[np.clip(month, 0, 12)] + (leap & (month == 2))
    return in_month


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's ``days_from_civil``)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days: np.ndarray = era * 146_097 + day_of_era - 719_468
    return days


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
