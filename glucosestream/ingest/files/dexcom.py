"""Dexcom Clarity exports: CSV, or the .xlsx workbook, which
:func:`~glucosestream.ingest.files.formats.read_text` reads as CSV text.

Columns (the "Export" CSV): ``Index, Timestamp (YYYY-MM-DDThh:mm:ss), Event Type,
Event Subtype, Patient Info, Device Info, Source Device ID, Glucose Value (mg/dL),
Insulin Value (u), Carb Value (grams), Duration (hh:mm:ss), Glucose Rate of Change
(mg/dL/min), Transmitter Time (Long Integer), Transmitter ID`` (``mmol/L`` in the two glucose
headers for mmol exports; older exports have no ``Transmitter ID``). The first rows are
``FirstName``/``LastName``/``Device``/``Alert`` settings rows without a timestamp; readings are
``EGV`` rows; ``Low``/``High`` stand for values beyond the sensor range (< 40, > 400 mg/dL;
2.2-22.2 mmol/L), so Clarity never writes a number beyond it: one there (5000, 25) means a
damaged or edited file, which is refused.
Timestamps are the receiver's local time, read in the import's zone; one with a UTC offset or
``Z`` is that instant, as given. ``Transmitter Time`` (the transmitter's seconds) orders each
transmitter's rows where the wall time repeats (:mod:`glucosestream.domain.local_time`).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from glucosestream.domain.reading import (
    MG_DL_PER_MMOL_L,
    SENSOR_MAX_MG_DL,
    SENSOR_MIN_MG_DL,
    ReadingSource,
    Trend,
)
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
    optional_column,
    unit_of_header,
)

DEXCOM_LOW_MG_DL = 39
"""Dexcom 'Low' (< 40 mg/dL), stored as 39 flagged BELOW_SENSOR_RANGE (Nightscout's convention)."""
DEXCOM_HIGH_MG_DL = 401
"""Dexcom 'High' (> 400 mg/dL), flagged ABOVE_SENSOR_RANGE."""
DEXCOM_GLUCOSE_PREFIX = "Glucose Value"
DEXCOM_RATE_PREFIX = "Glucose Rate of Change"
DEXCOM_SKIPPED = {
    "FirstName": "patient name row (never imported)",
    "LastName": "patient name row (never imported)",
    "DateOfBirth": "patient information row",
    "Device": "device information row",
    "Alert": "alert setting row",
    "Calibration": "calibration (a meter value entered into the receiver), not a sensor reading",
    "Insulin": "insulin event, not glucose",
    "Carbs": "carbohydrate event, not glucose",
    "Exercise": "exercise event, not glucose",
    "Health": "health event, not glucose",
    "Notes": "note, not glucose",
}
_DEXCOM_TREND_BANDS: tuple[tuple[float, Trend], ...] = (
    (3.0, Trend.DOUBLE_UP),
    (2.0, Trend.SINGLE_UP),
    (1.0, Trend.FORTY_FIVE_UP),
    (-1.0, Trend.FLAT),
    (-2.0, Trend.FORTY_FIVE_DOWN),
    (-3.0, Trend.SINGLE_DOWN),
)
"""Dexcom's arrows by rate of change (mg/dL/min): > 3 double up … < -3 double down."""


def dexcom_trend(rate_mg_dl_min: float | None) -> Trend:
    if rate_mg_dl_min is None:
        return Trend.NOT_COMPUTABLE
    for floor, trend in _DEXCOM_TREND_BANDS:
        if rate_mg_dl_min > floor or (trend is Trend.FLAT and rate_mg_dl_min >= floor):
            return trend
    return Trend.DOUBLE_DOWN


_DATE_AND_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
"""How a Clarity timestamp starts: a date and a time of day (then seconds, maybe an offset)."""


def _timestamp(stamp: str, where: str) -> datetime:
    """A row's time; a date alone is refused: a reading has a time of day, and taking it as
    midnight would invent one."""
    expected = "expected YYYY-MM-DDThh:mm:ss"
    if _DATE_AND_TIME.match(stamp) is None:
        if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", stamp):
            raise MalformedFile(f"{where}: timestamp {stamp!r} has no time of day; {expected}")
        raise MalformedFile(f"{where}: timestamp {stamp!r} is not a date and time; {expected}")
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        raise MalformedFile(
            f"{where}: timestamp {stamp!r} is not a date and time; {expected}"
        ) from None


def _transmitter_seconds(cell: str) -> int | None:
    """``Transmitter Time (Long Integer)``: the transmitter's seconds since it started, which only
    grow while it records, so they order its readings where the local wall time repeats (an
    autumn daylight-saving change). None when empty or not a whole number: the rows of that
    transmitter are then taken in file order."""
    text = cell.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def parse_dexcom(text: str, path: Path, patient_id: str, tz: ZoneInfo, now_ms: int) -> ParsedFile:
    rows = csv_rows(text, path, delimiter_of(text.split("\n", 1)[0]))
    if not rows:
        raise MalformedFile(f"{path}: empty file")
    header = rows[0][1]
    width = len(header)
    names = [h.strip() for h in header]
    event_col = column(names, "Event Type", path)
    time_col = column(names, "Timestamp", path)
    glucose_col = column(names, DEXCOM_GLUCOSE_PREFIX, path)
    rate_col = column(names, DEXCOM_RATE_PREFIX, path)
    source_col = column(names, "Source Device ID", path)
    # Older Clarity exports end at Transmitter Time: the device is then the Source Device ID.
    transmitter_col = optional_column(names, "Transmitter ID")
    transmitter_time_col = optional_column(names, "Transmitter Time")
    unit = unit_of_header(names[glucose_col], DEXCOM_GLUCOSE_PREFIX, path)
    parsed = ParsedFile("dexcom")
    glucose_rows: list[WallClockRow] = []
    for line, fields in rows[1:]:
        where = f"{path}:{line}"
        check_width(path, line, fields, width)
        parsed.rows_read += 1
        event = fields[event_col].strip()
        if event == names[event_col]:
            raise MalformedFile(f"{where}: a second header row (concatenated exports?)")
        if event != "EGV":
            parsed.skipped.append((line, DEXCOM_SKIPPED.get(event, f"event type {event!r}")))
            continue
        glucose = glucose_cell(
            fields[glucose_col],
            unit,
            DEXCOM_LOW_MG_DL,
            DEXCOM_HIGH_MG_DL,
            where,
            numbers_within=(SENSOR_MIN_MG_DL, SENSOR_MAX_MG_DL),
        )
        if glucose is None:
            parsed.skipped.append((line, "EGV row without a glucose value"))
            continue
        moment = _timestamp(fields[time_col].strip(), where)
        rate_text = fields[rate_col].strip()
        try:
            # A decimal comma in a European-locale save (no thousands separators in a rate).
            rate = float(rate_text.replace(",", ".")) if rate_text else None
        except ValueError:
            raise MalformedFile(f"{where}: rate of change {rate_text!r} is not a number") from None
        if rate is not None and unit == "mmol/L":
            rate *= MG_DL_PER_MMOL_L
        transmitter = fields[transmitter_col].strip() if transmitter_col is not None else ""
        device = transmitter or fields[source_col].strip() or "unknown"
        # The counter restarts with each transmitter: only rows naming theirs share one.
        sequence = (
            _transmitter_seconds(fields[transmitter_time_col])
            if transmitter and transmitter_time_col is not None
            else None
        )
        glucose_rows.append(
            WallClockRow(
                where,
                f"dexcom-{device}",
                moment,
                glucose,
                dexcom_trend(rate),
                ReadingSource.IMPORT,
                sequence,
            )
        )
    add_wall_clock_readings(parsed, glucose_rows, patient_id, tz, now_ms)
    return parsed
