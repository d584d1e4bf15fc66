"""Read CGM readings from CSV in the iglu convention: ``id,time,gl``.

``time`` is ISO 8601 (``2026-01-05T07:30:00Z``, ``2026-01-05 08:30:00+01:00``, or naive, taken
in ``tz``); ``gl`` is glucose in mg/dL. Optional columns: ``device_id`` and
``utc_offset_minutes`` (as ``glucosestream simulate --out`` writes them). Any bad row stops the
read with ``file:line: reason`` — nothing is skipped silently.

Times with an offset (or ``Z``) are used as they are. A naive time with a ``utc_offset_minutes``
value is read in that offset. Other naive times are wall-clock times in ``tz``, converted per
patient and device in file order by :func:`glucosestream.domain.local_time.resolve_wall_times`,
so that the repeated hour of a daylight-saving change is not merged into the first and the
skipped hour is not lost; what it had to decide is in :attr:`CsvInput.local_times`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from glucosestream.domain.conflicts import ConflictReport, find_conflicts
from glucosestream.domain.local_time import LocalTimeReport, ResolvedTime, resolve_wall_times

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


@dataclass(frozen=True, slots=True)
class _ParsedRow:
    patient_id: str
    device_id: str
    moment: datetime
    """Aware when the source gave an offset; naive (wall clock in ``tz``) otherwise."""
    offset_column: int | None
    glucose_mg_dl: float
    line: int


@dataclass
class CsvInput:
    """The readings of a CSV and what reading them decided."""

    rows: list[CsvReading]
    local_times: LocalTimeReport = field(default_factory=LocalTimeReport)
    conflicts: ConflictReport = field(default_factory=lambda: ConflictReport(0, None))
    lines: list[int] = field(default_factory=list)
    """The file line of each row."""

    def phrases(self) -> list[str]:
        """What was resolved or found, for a command's summary line."""
        return input_phrases(self.local_times, self.conflicts)


def input_phrases(local_times: LocalTimeReport, conflicts: ConflictReport) -> list[str]:
    """What reading a file's times decided, and its conflicts, as summary-line phrases."""
    conflict = conflicts.phrase()
    return [*local_times.phrases(), *([conflict] if conflict else [])]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CsvInputError(f"unknown time zone {name!r}") from None


def read_readings_csv(path: Path, tz: str = "UTC") -> list[CsvReading]:
    """The readings of an ``id,time,gl`` CSV (see :func:`read_csv_input`)."""
    return read_csv_input(path, tz).rows


def read_csv_input(path: Path, tz: str = "UTC") -> CsvInput:
    """Read and convert a whole ``id,time,gl`` CSV; raises :class:`CsvInputError`."""
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
            parsed = [_row(row, path, reader.line_num) for row in reader]
        except UnicodeDecodeError as error:
            raise CsvInputError(f"{path}: not UTF-8 text ({error.reason})") from None
        except csv.Error as error:
            raise CsvInputError(f"{path}:{reader.line_num}: {error}") from None
    if not parsed:
        raise CsvInputError(f"{path}: no readings after the header")
    return _converted(parsed, zone_info, path)


def _converted(parsed: list[_ParsedRow], tz: ZoneInfo, path: Path) -> CsvInput:
    """UTC instants for every row: given offsets as they are, wall-clock times resolved."""
    wall_rows = [
        i for i, r in enumerate(parsed) if r.moment.tzinfo is None and r.offset_column is None
    ]
    resolved, report = resolve_wall_times(
        [(parsed[i].patient_id, parsed[i].device_id) for i in wall_rows],
        [parsed[i].moment for i in wall_rows],
        tz,
    )
    by_row: list[ResolvedTime | None] = [None] * len(parsed)
    for index, converted in zip(wall_rows, resolved, strict=True):
        by_row[index] = converted
    # Report positions are indices into wall_rows: name them by their file lines.
    for positions in (
        report.ambiguous_undecided,
        report.nonexistent_shifted,
        report.clock_not_switched,
    ):
        positions[:] = [parsed[wall_rows[p]].line for p in positions]
    rows = []
    for index, row in enumerate(parsed):
        resolved_time = by_row[index]
        if resolved_time is not None:
            measured_at, offset = resolved_time
        else:
            moment = row.moment
            if moment.tzinfo is None:  # naive, in the row's own utc_offset_minutes
                moment = moment.replace(tzinfo=UTC) - _minutes(row.offset_column)
            measured_at = round(moment.timestamp() * 1000)
            given = moment.utcoffset() if row.moment.tzinfo is not None else None
            offset = (
                row.offset_column
                if row.offset_column is not None
                else int(given.total_seconds() // 60)
                if given is not None
                else 0
            )
        rows.append(
            CsvReading(
                patient_id=row.patient_id,
                measured_at=measured_at,
                glucose_mg_dl=row.glucose_mg_dl,
                utc_offset_minutes=offset,
                device_id=row.device_id,
            )
        )
    conflicts = find_conflicts(
        [(r.patient_id, r.device_id, r.measured_at) for r in rows],
        [r.glucose_mg_dl for r in rows],
        lambda i: (
            f"{rows[i].patient_id} at {_iso_utc(rows[i].measured_at)}, {path}:{parsed[i].line}"
        ),
    )
    return CsvInput(rows, report, conflicts, [p.line for p in parsed])


def _iso_utc(epoch_ms: int) -> str:
    return f"{datetime.fromtimestamp(epoch_ms / 1000, UTC):%Y-%m-%dT%H:%M:%SZ}"


def _minutes(value: int | None) -> timedelta:
    return timedelta(minutes=value or 0)


def _row(row: dict[str, str | None], path: Path, line: int) -> _ParsedRow:
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
    raw_gl = (row["gl"] or "").strip()
    try:
        glucose = float(raw_gl)
    except ValueError:
        raise CsvInputError(f"{where}: gl {raw_gl!r} is not a number") from None
    if not math.isfinite(glucose) or glucose <= 0:
        raise CsvInputError(f"{where}: gl {raw_gl!r} is not a positive glucose value")
    offset_minutes: int | None = None
    if row.get("utc_offset_minutes"):
        try:
            offset_minutes = int(str(row["utc_offset_minutes"]))
        except ValueError:
            raise CsvInputError(f"{where}: utc_offset_minutes is not a whole number") from None
    return _ParsedRow(
        patient_id=patient,
        device_id=(row.get("device_id") or "").strip(),
        moment=moment,
        offset_column=offset_minutes,
        glucose_mg_dl=glucose,
        line=line,
    )
