"""Quiet hours: parsing, windows across midnight, and which alerts they silence."""

from __future__ import annotations

import pytest

from glucosestream.domain.alerts import AlertConfig, AlertKind, AlertReading
from glucosestream.domain.alerts.quiet_hours import QuietHours, silenced
from glucosestream.domain.alerts.replay import replay
from tests.unit.domain.alerts.scenario import MIN, T0, series

NIGHT = QuietHours.parse("22:00-07:00")


def reading_at_local(clock: str, offset_minutes: int = 0) -> AlertReading:
    hours, minutes = map(int, clock.split(":"))
    local = T0 + (hours * 60 + minutes) * MIN  # T0 is a UTC midnight
    return AlertReading(local - offset_minutes * MIN, 65, local, "dex", offset_minutes)


@pytest.mark.parametrize(
    ("clock", "inside"),
    [
        ("21:59", False),
        ("22:00", True),
        ("23:59", True),
        ("00:00", True),
        ("06:59", True),
        ("07:00", False),
        ("12:00", False),
    ],
)
def test_a_window_across_midnight(clock: str, inside: bool) -> None:
    assert silenced(AlertKind.LOW, reading_at_local(clock), NIGHT) is inside


def test_a_window_within_a_day() -> None:
    lunch = QuietHours.parse("12:00-13:30")
    assert silenced(AlertKind.HIGH, reading_at_local("13:29"), lunch)
    assert not silenced(AlertKind.HIGH, reading_at_local("13:30"), lunch)
    assert not silenced(AlertKind.HIGH, reading_at_local("11:59"), lunch)


def test_the_patients_local_time_decides_not_utc() -> None:
    # 23:00 in New York (UTC-5) is 04:00 UTC: inside the window either way; 21:00 local
    # (02:00 UTC) is outside, though 02:00 would be inside.
    assert silenced(AlertKind.LOW, reading_at_local("23:00", -300), NIGHT)
    assert not silenced(AlertKind.LOW, reading_at_local("21:00", -300), NIGHT)


@pytest.mark.parametrize("kind", [AlertKind.URGENT_LOW, AlertKind.URGENT_LOW_SOON])
def test_urgent_alerts_are_never_silenced(kind: AlertKind) -> None:
    assert not silenced(kind, reading_at_local("03:00"), NIGHT)


@pytest.mark.parametrize(
    "text", ["22:00", "24:00-07:00", "22:00-7:60", "10pm-7am", "07:00-07:00", ""]
)
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|same time"):
        QuietHours.parse(text)


def test_the_engine_silences_low_and_recovered_at_night_but_not_urgent_low() -> None:
    # Readings from 01:00 UTC (T0 is midnight UTC, offset 0): a 20-minute low with one 50.
    config = AlertConfig(quiet_hours=NIGHT)
    readings = series([75, 68, 67, 50, 66, 66, 75, 78, 80, 82], start_min=60)
    flags = {a.kind: a.silenced for a in replay([("p", r) for r in readings], config)}
    assert flags == {
        AlertKind.URGENT_LOW_SOON: False,
        AlertKind.URGENT_LOW: False,
        AlertKind.LOW: True,
        AlertKind.RECOVERED: True,
    }
    daytime = replay([("p", r) for r in series([75, 68, 67, 50, 66, 66], start_min=600)], config)
    assert [a.silenced for a in daytime] == [False] * len(daytime)
