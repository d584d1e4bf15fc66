"""A CSV body as Arrow string columns with each record's file line, read by pyarrow's
multi-threaded CSV reader — or ``None`` when the file is outside what it reads exactly as
Python's :mod:`csv` module does (the caller then reads it row by row).

Why pyarrow rather than DuckDB's ``read_csv``: every value must stay a string until the caller
has validated it with its own rules (Python's ``float``, ISO 8601 as ``datetime.fromisoformat``
reads it) so that a bad row gets the same message as before; pyarrow gives exactly that (column
types forced to strings, empty strings kept, no sniffing) as zero-copy Arrow arrays the numpy
checks read directly, and a record whose field count is wrong stops the read. DuckDB's reader
sniffs dialects and types, and would be one more engine between the bytes and the arrays.

Exactness: Python's reader counts ``\\r``, ``\\n`` and ``\\r\\n`` as line ends, skips empty lines,
lets a quoted field span lines and refuses fields over 131,072 characters; pyarrow gives no line
numbers. So the columnar read is used only when each record is one physical line, which is
checked on the bytes: a lone ``\\r``, a value holding a line break, a line longer than the field
limit, duplicate column names or a field count pyarrow refuses → ``None``. Lines holding a quote
character are re-read with :mod:`csv` and must give the same fields, so quoting follows Python's
rules to the letter.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

FIELD_LIMIT = 131_072
"""Python's default ``csv.field_size_limit()``: a longer line may hold a field it refuses."""

_NEWLINE = 10
_QUOTE = 34
_CARRIAGE_RETURN = 13


@dataclass(frozen=True)
class StringTable:
    """The records after the header: one string array per column read, and each record's line."""

    columns: dict[str, pa.StringArray]
    lines: np.ndarray
    """The file line (1 = the header) of each record, int64."""

    @property
    def num_rows(self) -> int:
        return len(self.lines)


def read_string_table(
    data: bytes, header: Sequence[str], wanted: Sequence[str]
) -> StringTable | None:
    """The columns ``wanted`` (those of them in ``header``) of a UTF-8 CSV whose first line is
    ``header`` (already parsed, without a byte order mark in ``data``), or ``None`` (see the
    module docstring). ``None`` also when there are no records: the caller's row-by-row reader
    says so in its own words."""
    if len(set(header)) != len(header) or not _utf8(data):
        return None
    header_end = data.find(b"\n")
    if header_end < 0 or _lone_carriage_return(data):
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    physical = _Lines.of(raw, header_end + 1)
    lines = _record_lines(physical)
    if lines is None:
        return None
    quoted = data.find(b'"', header_end + 1) >= 0
    names = list(header) if quoted else [name for name in header if name in wanted]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(memoryview(data)[header_end + 1 :]),
            read_options=pa_csv.ReadOptions(column_names=list(header)),
            # Values may hold line breaks only inside quotes; the check below refuses them, but
            # the reader must first see them as values to keep the record count right.
            parse_options=pa_csv.ParseOptions(newlines_in_values=quoted),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                include_columns=names,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:
        return None
    if table.num_rows != len(lines) or table.num_rows == 0:
        return None
    columns = {name: table.column(name).combine_chunks() for name in names}
    if quoted and not _quoting_as_python(data, raw, physical, columns, list(header)):
        return None
    return StringTable({name: columns[name] for name in header if name in wanted}, lines)


def _lone_carriage_return(data: bytes) -> bool:
    """Whether a ``\r`` ends a line on its own (not in ``\r\n``): Python's reader counts it as a
    line end, which the line numbers here do not."""
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


def _utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class _Lines:
    """The physical lines after the header: where each starts and ends (before its line break)."""

    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, raw: np.ndarray, body_start: int) -> _Lines:
        breaks = np.flatnonzero(raw[body_start:] == _NEWLINE) + body_start
        ends = breaks
        if len(raw) > body_start and raw[-1] != _NEWLINE:  # a last line without its line break
            ends = np.append(breaks, len(raw))
        starts = np.concatenate(([body_start], breaks + 1))[: len(ends)].astype(np.int64)
        # A line ending in \r\n: the \r is part of the line break (a lone \r was refused).
        carriage = (ends > starts) & (raw[np.clip(ends - 1, 0, None)] == _CARRIAGE_RETURN)
        return cls(starts, ends - carriage)

    @property
    def lengths(self) -> np.ndarray:
        lengths: np.ndarray = self.ends - self.starts
        return lengths


def _record_lines(lines: _Lines) -> np.ndarray | None:
    """The file line of every non-empty line after the header (Python's reader skips empty
    lines, as pyarrow does), or ``None`` when a line is too long to be sure Python's reader would
    accept its fields."""
    lengths = lines.lengths
    if len(lengths) and int(lengths.max()) > FIELD_LIMIT:
        return None
    # Line 1 is the header; the first body line is line 2.
    return (np.flatnonzero(lengths > 0) + 2).astype(np.int64)


def _quoting_as_python(
    data: bytes,
    raw: np.ndarray,
    lines: _Lines,
    columns: dict[str, pa.StringArray],
    header: list[str],
) -> bool:
    """Whether every record holding a quote character has the fields Python's reader gives it,
    and no value holds a line break (a record over several lines: line numbers unknown)."""
    for column in columns.values():
        if pc.any(pc.match_substring_regex(column, "[\r\n]")).as_py():
            return False
    body_start = int(lines.starts[0])
    quotes = np.flatnonzero(raw[body_start:] == _QUOTE) + body_start
    # No value holds a line break, so records and non-empty lines correspond one to one.
    line_of_quote = np.unique(np.searchsorted(lines.ends, quotes, side="right"))
    record_of_line = np.cumsum(lines.lengths > 0) - 1
    for line in line_of_quote.tolist():
        text = data[lines.starts[line] : lines.ends[line]].decode("utf-8")
        try:
            parsed = list(csv.reader([text]))
        except csv.Error:
            return False
        record = int(record_of_line[line])
        if parsed != [[columns[name][record].as_py() for name in header]]:
            return False
    return True
