"""LibreView exports ("Download glucose data").

A title line (``Glucose Data,Generated on,…``), then ``Device, Serial Number, Device Timestamp,
Record Type, Historic Glucose mg/dL, Scan Glucose mg/dL, …, Strip Glucose mg/dL, Ketone mmol/L,
…`` (``mmol/L`` for mmol exports). Record type 0 = historic (15-minute) glucose, 1 = scan,
2 = strip (meter), 3 = ketone, 4 = insulin, 5 = food, 6 = time change. ``Device Timestamp`` is
local time, ``MM-DD-YYYY hh:mm AM/PM`` in US exports and ``DD-MM-YYYY HH:MM`` in European ones
(some locales use ``;`` and a decimal comma).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from glucosestream.domain.reading import ReadingSource, Trend
from glucosestream.ingest.files.parsed_file import (
    MalformedFile,
    ParsedFile,
    WallClockRow,
    add_wall_clock_readings,
)
from glucosestream.ingest.files.vendor_csv import (
    check_width,
    column,
    csv_rows,
    delimiter_of,
    glucose_cell,
    unit_of_header,
)

LIBRE_LOW_MG_DL = 39
LIBRE_HIGH_MG_DL = 501
"""Libre 'HI' is > 500 mg/dL."""
LIBRE_RECORD_TYPES = {
    "0": "historic",
    "1": "scan",
    "2": "strip",
    "3": "ketone reading, not glucose",
    "4": "insulin event, not glucose",
    "5": "food event, not glucose",
    "6": "time change event, not glucose",
}
_LIBRE_STAMP = re.compile(
    r"^(?P<a>\d{1,4})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{2,4})\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?$"
)
DateOrder = Literal["ymd", "mdy", "dmy"]


def _libre_date_order(stamps: list[tuple[str, re.Match[str]]], path: Path) -> DateOrder:
    """The file's date order, decided over ALL its timestamps (a 15-minute file spans days
    > 12, which settles it); US exports (with AM/PM) default to month first, others to day."""
    if all(len(m["a"]) == 4 for _, m in stamps):
        return "ymd"
    first_over_12 = any(int(m["a"]) > 12 for _, m in stamps)
    second_over_12 = any(int(m["b"]) > 12 for _, m in stamps)
    if first_over_12 and second_over_12:
        raise MalformedFile(f"{path}: timestamps mix day-first and month-first dates")
    if first_over_12:
        return "dmy"
    if second_over_12:
        return "mdy"
    return "mdy" if any(m["ampm"] for _, m in stamps) else "dmy"


def _libre_moment(match: re.Match[str], order: DateOrder, where: str) -> datetime:
    a, b, c = int(match["a"]), int(match["b"]), int(match["c"])
    year, month, day = {"ymd": (a, b, c), "mdy": (c, a, b), "dmy": (c, b, a)}[order]
    hour = int(match["h"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise MalformedFile(f"{where}: hour {hour} with AM/PM")
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    try:
        return datetime(year, month, day, hour, int(match["m"]), int(match["s"] or 0))
    except ValueError as error:
        raise MalformedFile(f"{where}: impossible date or time ({error})") from None


def parse_libre(text: str, path: Path, patient_id: str, tz: ZoneInfo, now_ms: int) -> ParsedFile:
    lines = text.splitlines()
    header_index = next((i for i, line in enumerate(lines[:5]) if "Device Timestamp" in line), None)
    if header_index is None:
        raise MalformedFile(f"{path}: no LibreView header (Device Timestamp, Record Type, …)")
    header_text = lines[header_index]
    rows = csv_rows("\n".join(lines[header_index:]), path, delimiter_of(header_text))
    offset = header_index  # line numbers in the file, not in the slice
    names = [h.strip() for h in rows[0][1]]
    width = len(names)
    device_col = column(names, "Device", path)
    serial_col = column(names, "Serial Number", path)
    time_col = column(names, "Device Timestamp", path)
    type_col = column(names, "Record Type", path)
    columns = {
        "historic": column(names, "Historic Glucose", path),
        "scan": column(names, "Scan Glucose", path),
        "strip": column(names, "Strip Glucose", path),
    }
    units = {
        kind: unit_of_header(names[col], names[col].split(" ")[0] + " Glucose", path)
        for kind, col in columns.items()
    }
    if len(set(units.values())) > 1:
        raise MalformedFile(f"{path}:{offset + 1}: glucose columns in different units")
    unit = units["historic"]
    parsed = ParsedFile("libre")
    glucose_rows: list[tuple[int, list[str], str, re.Match[str]]] = []
    for line, fields in rows[1:]:
        where = f"{path}:{line + offset}"
        check_width(path, line + offset, fields, width)
        parsed.rows_read += 1
        if fields[time_col].strip() == names[time_col]:
            raise MalformedFile(f"{where}: a second header row (concatenated exports?)")
        kind = LIBRE_RECORD_TYPES.get(fields[type_col].strip())
        if kind is None:
            parsed.skipped.append((line + offset, f"record type {fields[type_col].strip()!r}"))
            continue
        if kind not in columns:
            parsed.skipped.append((line + offset, kind))
            continue
        stamp = fields[time_col].strip()
        match = _LIBRE_STAMP.match(stamp)
        if match is None:
            raise MalformedFile(f"{where}: timestamp {stamp!r} is not a LibreView date and time")
        glucose_rows.append((line + offset, fields, kind, match))
    if not glucose_rows:
        return parsed
    order = _libre_date_order([(str(n), m) for n, _, _, m in glucose_rows], path)
    wall_rows: list[WallClockRow] = []
    for line, fields, kind, match in glucose_rows:
        where = f"{path}:{line}"
        glucose = glucose_cell(
            fields[columns[kind]], unit, LIBRE_LOW_MG_DL, LIBRE_HIGH_MG_DL, where
        )
        if glucose is None:
            parsed.skipped.append((line, f"{kind} row without a glucose value"))
            continue
        device = fields[serial_col].strip() or fields[device_col].strip() or "unknown"
        wall_rows.append(
            WallClockRow(
                where,
                f"libre-{device}",
                _libre_moment(match, order, where),
                glucose,
                Trend.NOT_COMPUTABLE,  # LibreView exports carry no trend arrows
                ReadingSource.BGM if kind == "strip" else ReadingSource.IMPORT,
            )
        )
    add_wall_clock_readings(parsed, wall_rows, patient_id, tz, now_ms)
    return parsed
