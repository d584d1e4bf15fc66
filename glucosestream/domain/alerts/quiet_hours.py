"""Quiet hours: a daily window of the patient's local time when non-critical alerts are silenced.

A silenced alert is still recorded and published (with ``silenced = true``, also an SNS message
attribute) so that it shows in the history and the dashboard; subscriptions that page a person
filter it out. URGENT_LOW and URGENT_LOW_SOON are never silenced: level 2 hypoglycaemia needs
immediate action at any hour (Battelino et al. 2019, doi:10.2337/dci19-0028), and Dexcom's
urgent low alarm cannot be turned off either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from glucosestream.domain.alerts.model import AlertKind, AlertReading

MINUTES_A_DAY = 24 * 60
NEVER_SILENCED = frozenset({AlertKind.URGENT_LOW, AlertKind.URGENT_LOW_SOON})
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    """From ``start_minute`` (inclusive) to ``end_minute`` (exclusive), minutes after local
    midnight; a window whose end is before its start spans midnight (22:00-07:00)."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        for name in ("start_minute", "end_minute"):
            value = getattr(self, name)
            if not 0 <= value < MINUTES_A_DAY:
                raise ValueError(f"{name} must be within 0-1439, got {value}")
        if self.start_minute == self.end_minute:
            raise ValueError("quiet hours must not start and end at the same time")

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"22:00-07:00"`` (24-hour local clock, start-end)."""
        start, sep, end = text.strip().partition("-")
        if not sep:
            raise ValueError(f'"{text}" is not HH:MM-HH:MM (24-hour local time, e.g. 22:00-07:00)')
        return cls(_minute_of(start), _minute_of(end))

    def to_text(self) -> str:
        return f"{_clock(self.start_minute)}-{_clock(self.end_minute)}"

    def contains(self, local_minute_of_day: int) -> bool:
        if self.start_minute < self.end_minute:
            return self.start_minute <= local_minute_of_day < self.end_minute
        return local_minute_of_day >= self.start_minute or local_minute_of_day < self.end_minute


def silenced(kind: AlertKind, reading: AlertReading, quiet_hours: QuietHours | None) -> bool:
    """Whether an alert of ``kind`` raised at ``reading`` is silenced by the quiet hours, judged
    at the reading's local time (measured_at + utc_offset)."""
    if quiet_hours is None or kind in NEVER_SILENCED:
        return False
    local_minute = (reading.measured_at // 60_000 + reading.utc_offset_minutes) % MINUTES_A_DAY
    return quiet_hours.contains(local_minute)


def _minute_of(clock: str) -> int:
    match = _CLOCK.match(clock.strip())
    if match is None:
        raise ValueError(f'"{clock}" is not a 24-hour time HH:MM (00:00-23:59)')
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
