"""The CSV reading Dexcom Clarity and LibreView exports share: rows with their line numbers, the
header's columns and unit, and glucose cells (with the sensors' Low/High words) in mg/dL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from glucosestream.domain.reading import MG_DL_PER_MMOL_L, ReadingStatus, sensor_status
from glucosestream.ingest.files.parsed_file import MalformedFile
from glucosestream.ingest.units import (
    MAX_MMOL_LOOKING_MG_DL,
    Unit,
    UnitError,
    parse_unit,
    to_mg_dl,
)

LOW_TEXT = frozenset({"low", "lo"})
HIGH_TEXT = frozenset({"high", "hi"})
MAX_MMOL_LOOKING = MAX_MMOL_LOOKING_MG_DL
"""A mg/dL column holding a decimal value under this is mmol/L: mixed units (mg/dL exports are
whole numbers)."""
MIN_MG_DL_VALUE = 20
"""No sensor or meter reports a number under this in mg/dL; in a mg/dL column it is mmol/L."""


def delimiter_of(header_line: str) -> str:
    """``;`` when the header has more semicolons than commas: a CSV saved by a European-locale
    spreadsheet (its decimals then use commas, which :func:`glucose_cell` reads)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def csv_rows(text: str, path: Path, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank CSV line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((reader.line_num, fields))
    except csv.Error as error:
        raise MalformedFile(f"{path}:{reader.line_num}: {error}") from None
    return rows


def check_width(path: Path, line: int, fields: list[str], width: int) -> None:
    if len(fields) < width:
        raise MalformedFile(
            f"{path}:{line}: {len(fields)} fields where the header has {width}: the file is "
            "truncated or damaged"
        )
    if len(fields) > width and any(f.strip() for f in fields[width:]):
        raise MalformedFile(f"{path}:{line}: {len(fields)} fields where the header has {width}")


def unit_of_header(name: str, prefix: str, path: Path) -> Unit:
    try:
        return parse_unit(name[len(prefix) :].strip(" ()"))
    except UnitError as error:
        raise MalformedFile(f"{path}:1: column {name!r}: {error}") from None


def glucose_cell(
    text: str,
    unit: Unit,
    low: int,
    high: int,
    where: str,
    *,
    numbers_within: tuple[int, int] | None = None,
) -> tuple[int, ReadingStatus] | None:
    """(mg/dL, status) of a glucose cell; None when empty; MalformedFile when unreadable.

    ``numbers_within`` is the range (mg/dL, inclusive) of the numbers an export writes when it
    writes its Low/High words beyond it: a number outside it is refused, not flagged.
    """
    value = text.strip()
    if not value:
        return None
    folded = value.lower()
    if folded in LOW_TEXT:
        return low, ReadingStatus.BELOW_SENSOR_RANGE
    if folded in HIGH_TEXT:
        return high, ReadingStatus.ABOVE_SENSOR_RANGE
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise MalformedFile(f"{where}: glucose {value!r} is not a number, Low or High") from None
    if number <= 0:
        # Checked first: "-120" is no mmol/L value, and calling it one sends the reader astray.
        sign = "negative" if number < 0 else "zero"
        raise MalformedFile(f"{where}: glucose {value} is {sign}: the file is damaged or edited")
    decimal = "." in value or "," in value
    if unit == "mg/dL" and (number < MIN_MG_DL_VALUE or decimal) and number < MAX_MMOL_LOOKING:
        raise MalformedFile(
            f"{where}: {value} in a mg/dL column looks like mmol/L: the file mixes units"
        )
    try:
        mg_dl = to_mg_dl(number, unit)
    except UnitError as error:
        raise MalformedFile(f"{where}: {error}; the file mixes units or is damaged") from None
    if numbers_within is not None and not numbers_within[0] <= mg_dl <= numbers_within[1]:
        lowest, highest = numbers_within
        raise MalformedFile(
            f"{where}: glucose {value} {unit} is beyond {lowest}-{highest} mg/dL "
            f"({lowest / MG_DL_PER_MMOL_L:.1f}-{highest / MG_DL_PER_MMOL_L:.1f} mmol/L), where "
            "the export writes Low or High: the file is damaged or edited"
        )
    return mg_dl, sensor_status(mg_dl)


def column(header: list[str], prefix: str, path: Path) -> int:
    index = optional_column(header, prefix)
    if index is None:
        raise MalformedFile(f"{path}:1: no column {prefix!r} (found {', '.join(header)})")
    return index


def optional_column(header: list[str], prefix: str) -> int | None:
    """The first column whose name starts with ``prefix``, or None when there is none."""
    for index, name in enumerate(header):
        if name.strip().startswith(prefix):
            return index
    return None
