"""Clinical scenarios, computed by hand from the rules (5-minute readings unless said)."""

from __future__ import annotations

import pytest

from glucosestream.domain.alerts import AlertConfig, AlertKind, AlertReading
from glucosestream.domain.alerts.replay import replay
from tests.unit.domain.alerts.scenario import MIN, at, series

P = "p_patient"
LOW, URGENT, SOON, RECOVERED, HIGH = (
    AlertKind.LOW,
    AlertKind.URGENT_LOW,
    AlertKind.URGENT_LOW_SOON,
    AlertKind.RECOVERED,
    AlertKind.HIGH,
)


def run(readings: list[AlertReading], config: AlertConfig | None = None) -> list[tuple]:
    alerts = replay([(P, r) for r in readings], config)
    return [
        (a.kind, round((a.measured_at - at(0)) / 60_000), round((a.episode_start - at(0)) / 60_000))
        for a in alerts
    ]


def test_a_short_dip_does_not_page() -> None:
    # Two readings below 70 = 10 minutes: not an episode (needs 15); the fall is slow
    # (~0.5 mg/dL/min), so no urgent-low-soon either.
    assert run(series([80, 78, 75, 73, 71, 69, 68, 71, 74, 78, 82, 85])) == []


def test_a_twenty_minute_low_pages_once_and_recovers_once() -> None:
    # Below 70 from minute 15 to 40: confirmed at minute 25 (25 - 15 + 5 = 15 min);
    # back >= 70 from minute 45: recovered at minute 55 (55 - 45 + 5 = 15 min).
    readings = series([75, 72, 70, 68, 67, 66, 66, 67, 68, 70, 72, 75, 78, 80, 82])
    assert run(readings) == [(LOW, 25, 15), (RECOVERED, 55, 15)]


def test_urgent_low_pages_at_the_first_reading_below_54() -> None:
    # Falling 1 mg/dL/min from 80: at minute 10 (70) the 15-min slope projects 50 in 20 min.
    readings = series([80, 75, 70, 62, 55, 50, 48, 52, 58, 65, 72, 80, 85, 90])
    assert run(readings) == [
        (SOON, 10, 10),
        (URGENT, 25, 10),
        (LOW, 25, 10),  # below 70 since minute 15: 25 - 15 + 5 = 15 min
        (RECOVERED, 60, 10),  # >= 70 since minute 50
    ]


def test_sensor_low_reading_counts_as_urgent() -> None:
    # A sensor "LOW" arrives as 40 with status BELOW_SENSOR_RANGE.
    readings = series([66, 64, 40, 41, 62, 75, 80, 85, 90])
    kinds = [kind for kind, _, _ in run(readings)]
    assert kinds.count(URGENT) == 1
    assert kinds[0] is URGENT


def test_a_short_rise_inside_an_episode_keeps_it_one_episode() -> None:
    # Above 70 for only 10 minutes (20-25): the episode does not end.
    readings = series([65, 64, 63, 62, 72, 73, 69, 68, 67, 75, 80, 85, 90])
    assert run(readings) == [(LOW, 10, 0), (RECOVERED, 55, 0)]


def test_a_fifteen_minute_rise_ends_the_episode_and_a_new_one_pages_again() -> None:
    # Above 70 for 20 minutes (20-35): recovered at 30; a new episode from 40.
    readings = series([65, 64, 63, 62, 71, 72, 72, 71, 69, 68, 67, 66, 75, 80, 85, 90])
    assert run(readings) == [
        (LOW, 10, 0),
        (RECOVERED, 30, 0),
        (LOW, 50, 40),
        (RECOVERED, 70, 40),
    ]


def test_a_gap_over_45_minutes_splits_episodes_without_a_recovery() -> None:
    readings = series([65, 64, 63]) + series([64, 63, 62, 80, 85, 90, 95], start_min=70)
    assert run(readings) == [(LOW, 10, 0), (LOW, 80, 70), (RECOVERED, 95, 70)]


def test_a_gap_up_to_45_minutes_is_bridged() -> None:
    readings = series([65, 64, 63]) + series([64, 63, 80, 85, 90, 95], start_min=40)
    assert run(readings) == [(LOW, 10, 0), (RECOVERED, 60, 0)]


def test_at_libre_cadence_one_reading_stands_for_fifteen_minutes() -> None:
    # iglu's grid counting: with a 15-minute sampling interval one grid point is 15 minutes, so
    # one reading below 70 confirms the episode and one back above ends it.
    readings = series([72, 66, 64, 80, 85, 90], cadence_min=15)
    assert run(readings) == [(LOW, 15, 15), (RECOVERED, 45, 15)]


def test_urgent_low_soon_needs_a_fall_that_projects_below_55() -> None:
    # -2 mg/dL/min from 130: at minute 20 (90) projection 90 - 40 = 50.
    falling = series([130, 120, 110, 100, 90, 84, 80, 78, 77, 77, 78, 80, 83, 86, 90])
    alerts = run(falling)
    assert alerts[0] == (SOON, 20, 20)
    assert [a[0] for a in alerts].count(SOON) == 1
    # No RECOVERED: the episode never paged LOW or URGENT_LOW.
    assert RECOVERED not in [a[0] for a in alerts]


def test_a_late_backlog_does_not_page_but_a_timely_reading_in_the_same_episode_does() -> None:
    # Phone offline from minute 0 to 120; the backlog arrives at minute 121. The low started at
    # minute 90 (late readings); readings from minute 110 on are within the 15-minute bound.
    # At 110 the low is confirmed. The last 15 minutes fall 0.4 mg/dL/min (58 - 8 < 55), but
    # the reading is 11 minutes old on arrival: too old to forecast from, so no URGENT_LOW_SOON.
    values = [110] * 18 + [66, 64, 62, 60, 58]  # minutes 0..85 at 110, then 90..110 low
    readings = [
        AlertReading(r.measured_at, r.glucose_mg_dl, at(121), r.device_id) for r in series(values)
    ]
    assert run(readings) == [(LOW, 110, 90)]
    # The same readings arriving 9 minutes late do forecast.
    timely = [
        AlertReading(r.measured_at, r.glucose_mg_dl, r.measured_at + 9 * MIN, r.device_id)
        for r in series(values)
    ]
    assert SOON in [kind for kind, _, _ in run(timely)]


def test_a_backlog_whose_low_is_over_pages_nothing() -> None:
    values = [110] * 10 + [66, 64, 62, 60, 58, 75, 80, 85, 90] + [100] * 6
    readings = [
        AlertReading(r.measured_at, r.glucose_mg_dl, at(200), r.device_id) for r in series(values)
    ]
    assert run(readings) == []


def test_duplicates_and_redelivery_do_not_page_twice() -> None:
    readings = series([75, 72, 70, 68, 67, 66, 66, 67, 68, 70, 72, 75, 78, 80, 82])
    twice = [r for reading in readings for r in (reading, reading)]
    assert run(twice) == run(readings)


def test_hyper_alert_is_off_by_default_and_pages_once_when_enabled() -> None:
    readings = series([200, 240, 260, 270, 280, 275, 260, 240, 220, 200, 190])
    assert run(readings) == []
    config = AlertConfig(hyper_alerts=True)
    # above 250 from minute 10: 20 - 10 + 5 = 15 -> HIGH at minute 20.
    assert run(readings, config) == [(HIGH, 20, 10)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"level_2_hypo": 80}, "thresholds"),
        ({"episode_ms": 0}, "episode_ms must be positive"),
        ({"min_rate_span_ms": 30 * 60_000}, "min_rate_span_ms"),
    ],
)
def test_config_is_validated(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlertConfig(**overrides)
