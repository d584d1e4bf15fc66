"""UTC offsets of IANA zones over the simulated span, as vectorised look-ups.

Daily life follows local time, so every event and reading needs the zone's offset at its instant.
Calling ``zoneinfo`` per minute and patient would dominate the run time, so each zone's offset
changes (DST transitions) inside the span are found once: the offset is sampled hourly and every
change is narrowed down to the exact minute by bisection. Look-ups are then ``searchsorted``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

_HOUR = 60


def _offset_minutes(zone: ZoneInfo, utc_minute: int) -> int:
    offset = datetime.fromtimestamp(utc_minute * 60, tz=UTC).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return int(offset.total_seconds()) // 60


class ZoneClock:
    """Offsets of one zone between two UTC minutes (minutes since the epoch).

    Parameters
    ----------
    name
        IANA zone name.
    first_minute, last_minute
        The span, in UTC minutes since the epoch; look-ups outside it use the nearest edge's
        offset.
    """

    def __init__(self, name: str, first_minute: int, last_minute: int) -> None:
        self.name = name
        zone = ZoneInfo(name)
        hours = range(first_minute, last_minute + _HOUR, _HOUR)
        sampled = [_offset_minutes(zone, minute) for minute in hours]
        changes: list[int] = []
        offsets = [sampled[0]]
        for i in range(1, len(sampled)):
            if sampled[i] == sampled[i - 1]:
                continue
            # Bisect the hour to the first minute that has the new offset.
            lo, hi = hours[i - 1], hours[i]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_minutes(zone, mid) == sampled[i - 1]:
                    lo = mid
                else:
                    hi = mid
            changes.append(hi)
            offsets.append(sampled[i])
        self._changes = np.asarray(changes, dtype=np.int64)
        self._offsets = np.asarray(offsets, dtype=np.int64)

    def offset_at(self, utc_minutes: NDArray[np.int64]) -> NDArray[np.int64]:
        """UTC offset in minutes at each UTC minute (local = UTC + offset)."""
        return self._offsets[np.searchsorted(self._changes, utc_minutes, side="right")]

    def to_utc(self, local_minutes: NDArray[np.int64]) -> NDArray[np.int64]:
        """UTC minute of each local wall-clock minute.

        A wall time skipped by a spring-forward maps to the minute just after the gap's start
        offset would put it, and an ambiguous fall-back time to its first occurrence: people
        keep their habits across the change and the simulator only needs a plausible instant.
        """
        guess = local_minutes - self.offset_at(local_minutes)
        first = local_minutes - self.offset_at(guess)
        # For an ambiguous wall time the earlier (summer-time) occurrence wins.
        earlier = local_minutes - self.offset_at(first - _HOUR * 3)
        ambiguous = (earlier + self.offset_at(earlier) == local_minutes) & (earlier < first)
        return np.where(ambiguous, earlier, first)
