"""Zone offsets over the simulated span agree with zoneinfo, DST transitions included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.simulator.config import DEFAULT_TIMEZONES
from stream.simulator.timezones import ZoneClock

FIRST = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) // 60
LAST = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp()) // 60
ZONES = (*DEFAULT_TIMEZONES, "Australia/Adelaide", "Asia/Kathmandu")
CLOCKS = {zone: ZoneClock(zone, FIRST, LAST) for zone in ZONES}


def _zoneinfo_offset(zone: str, minute: int) -> int:
    offset = datetime.fromtimestamp(minute * 60, tz=UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


@settings(max_examples=300)
@given(zone=st.sampled_from(ZONES), minute=st.integers(FIRST, LAST))
def test_offset_matches_zoneinfo(zone: str, minute: int) -> None:
    got = CLOCKS[zone].offset_at(np.array([minute], dtype=np.int64))[0]
    assert got == _zoneinfo_offset(zone, minute)


def test_london_springs_forward_at_one_utc_on_last_sunday_of_march() -> None:
    change = int(datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()) // 60
    offsets = CLOCKS["Europe/London"].offset_at(np.array([change - 1, change], dtype=np.int64))
    assert offsets.tolist() == [0, 60]


@settings(max_examples=200)
@given(zone=st.sampled_from(ZONES), minute=st.integers(FIRST + 1440, LAST - 1440))
def test_to_utc_inverts_local_time(zone: str, minute: int) -> None:
    clock = CLOCKS[zone]
    local = minute + clock.offset_at(np.array([minute], dtype=np.int64))
    back = clock.to_utc(local)[0]
    # Ambiguous fall-back wall times map to the earlier instant; otherwise exact.
    assert back + clock.offset_at(np.array([back], dtype=np.int64))[0] == local[0]
    assert back <= minute
