"""Read CGM readings from CSV in the iglu convention: ``id,time,gl``.

``time`` is ISO 8601 (``2026-01-05T07:30:00Z``, ``2026-01-05 08:30:00+01:00``, or naive, taken
in ``tz``); ``gl`` is glucose in mg/dL. Optional columns: ``device_id`` and
``utc_offset_minutes`` (as ``glucosestream simulate --out`` writes them). Any bad row stops the
read with ``file:line: reason`` — nothing is skipped silently.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REQUIRED = ("id", "time", "gl")


class CsvInputError(ValueError):
    """The CSV cannot be read as readings; the message names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class CsvReading:
    patient_id: str
    measured_at: int
    """UTC epoch milliseconds."""
    glucose_mg_dl: float
    utc_offset_minutes: int
    device_id: str


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CsvInputError(f"unknown time zone {name!r}") from None


def read_readings_csv(path: Path, tz: str = "UTC") -> list[CsvReading]:
    zone_info = zone(tz)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise CsvInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvInputError(f"{path}: is a directory") from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            if not header:
                raise CsvInputError(f"{path}: empty file (expected a header id,time,gl)")
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise CsvInputError(
                    f"{path}:1: missing column(s) {', '.join(missing)} (found {', '.join(header)})"
                )
            rows = [_row(row, zone_info, path, reader.line_num) for row in reader]
        except UnicodeDecodeError as error:
            raise CsvInputError(f"{path}: not UTF-8 text ({error.reason})") from None
        except csv.Error as error:
            raise CsvInputError(f"{path}:{reader.line_num}: {error}") from None
    if not rows:
        raise CsvInputError(f"{path}: no readings after the header")
    return rows


def _row(row: dict[str, str | None], tz: ZoneInfo, path: Path, line: int) -> CsvReading:
    where = f"{path}:{line}"
    if None in row or any(row.get(c) is None for c in REQUIRED):
        raise CsvInputError(f"{where}: wrong number of fields")
    patient = (row["id"] or "").strip()
    if not patient:
        raise CsvInputError(f"{where}: empty id")
    text = (row["time"] or "").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CsvInputError(f"{where}: time {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    offset = moment.utcoffset()
    raw_gl = (row["gl"] or "").strip()
    try:
        glucose = float(raw_gl)
    except ValueError:
        raise CsvInputError(f"{where}: gl {raw_gl!r} is not a number") from None
    if not math.isfinite(glucose) or glucose <= 0:
        raise CsvInputError(f"{where}: gl {raw_gl!r} is not a positive glucose value")
    offset_minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if row.get("utc_offset_minutes"):
        try:
            offset_minutes = int(str(row["utc_offset_minutes"]))
        except ValueError:
            raise CsvInputError(f"{where}: utc_offset_minutes is not a whole number") from None
    return CsvReading(
        patient_id=patient,
        measured_at=round(moment.timestamp() * 1000),
        glucose_mg_dl=glucose,
        utc_offset_minutes=offset_minutes,
        device_id=(row.get("device_id") or "").strip(),
    )
