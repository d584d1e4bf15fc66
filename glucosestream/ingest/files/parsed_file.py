"""What parsing an export file yields (:class:`ParsedFile`) or why it cannot be imported
(:class:`MalformedFile`), and what every vendor's parser shares: a checked reading, local
wall-clock rows converted to UTC per device, and conflicting readings found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from glucosestream.domain.conflicts import ConflictReport, find_conflicts
from glucosestream.domain.local_time import LocalTimeReport, resolve_wall_times
from glucosestream.domain.reading import (
    GlucoseReading,
    InvalidReading,
    ReadingSource,
    ReadingStatus,
    Trend,
)
from glucosestream.ingest.files.readings_csv import input_phrases, iso_utc_seconds

_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

Format = Literal["dexcom", "libre", "nightscout", "csv"]
"""The formats ``glucosestream import --format`` names (``auto`` detects one of them)."""


class MalformedFile(ValueError):
    """The file cannot be imported as a whole; the message names the file, line and reason."""


@dataclass
class ParsedFile:
    format: Format
    rows_read: int = 0
    """Data rows (or JSON entries) read, header and title lines excluded."""
    readings: list[GlucoseReading] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """(line or entry number, reason) of each row that is not a glucose reading."""
    local_times: LocalTimeReport = field(default_factory=LocalTimeReport)
    """What converting local wall-clock times to UTC decided (daylight-saving changes)."""
    conflicts: ConflictReport = field(default_factory=lambda: ConflictReport(0, None))

    def skip_reasons(self) -> Counter[str]:
        return Counter(reason for _, reason in self.skipped)

    def phrases(self) -> list[str]:
        """What was resolved or found, for the import's summary line."""
        return input_phrases(self.local_times, self.conflicts)


@dataclass(frozen=True, slots=True)
class WallClockRow:
    """A glucose row whose time is the device's local wall clock, before conversion to UTC."""

    where: str
    device_id: str
    wall: datetime
    """Naive: the device's wall clock, resolved in the import's zone. Aware (the export gave an
    offset or ``Z``): that instant, its offset kept, never re-read in the zone."""
    glucose: tuple[int, ReadingStatus]
    trend: Trend
    source: ReadingSource
    sequence: int | None = None
    """The device's recording counter, when the export gives one (Dexcom's transmitter time):
    it orders the device's rows across a repeated hour (see domain.local_time)."""


def add_wall_clock_readings(
    parsed: ParsedFile, rows: list[WallClockRow], patient_id: str, tz: ZoneInfo, now_ms: int
) -> None:
    """Convert the rows' wall-clock times per device in file order (in recording order where
    every row of a device has a :attr:`WallClockRow.sequence`) and add the readings; a time with
    an offset is used as given (see :attr:`WallClockRow.wall`)."""
    naive = [index for index, row in enumerate(rows) if row.wall.tzinfo is None]
    resolved, parsed.local_times = resolve_wall_times(
        [rows[index].device_id for index in naive],
        [rows[index].wall for index in naive],
        tz,
        [rows[index].sequence for index in naive],
    )
    # The report's positions are indices into the naive rows: make them indices into `rows`.
    for positions in (
        parsed.local_times.ambiguous_undecided,
        parsed.local_times.nonexistent_shifted,
        parsed.local_times.clock_not_switched,
    ):
        positions[:] = [naive[position] for position in positions]
    resolved_in_order = iter(resolved)
    for row in rows:
        measured = next(resolved_in_order) if row.wall.tzinfo is None else _given_instant(row.wall)
        parsed.readings.append(
            checked_reading(
                patient_id,
                row.device_id,
                measured,
                row.glucose,
                row.trend,
                row.source,
                now_ms,
                row.where,
            )
        )
    parsed.conflicts = readings_conflicts(parsed.readings, [row.where for row in rows])


def _given_instant(moment: datetime) -> tuple[int, int]:
    """(UTC epoch ms, offset minutes) of an aware time, as the source gave it."""
    offset = moment.utcoffset() or timedelta(0)
    return (moment - _UTC_EPOCH) // _MILLISECOND, int(offset.total_seconds() // 60)


def readings_conflicts(readings: list[GlucoseReading], where: list[str]) -> ConflictReport:
    """Readings of one identity with different glucose values (see domain.conflicts)."""
    return find_conflicts(
        [(r.patient_id, r.device_id, r.measured_at) for r in readings],
        [r.glucose_mg_dl for r in readings],
        lambda i: (
            f"device {readings[i].device_id} at "
            f"{iso_utc_seconds(readings[i].measured_at)}, {where[i]}"
        ),
    )


def checked_reading(
    patient_id: str,
    device_id: str,
    measured: tuple[int, int],
    glucose: tuple[int, ReadingStatus],
    trend: Trend,
    source: ReadingSource,
    now_ms: int,
    where: str,
) -> GlucoseReading:
    try:
        return GlucoseReading(
            patient_id=patient_id,
            device_id=device_id,
            session_id=device_id,
            measured_at=measured[0],
            utc_offset_minutes=measured[1],
            glucose_mg_dl=glucose[0],
            status=glucose[1],
            trend=trend,
            source=source,
            produced_at=now_ms,
        )
    except InvalidReading as error:
        raise MalformedFile(f"{where}: {error}") from None
