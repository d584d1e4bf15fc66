"""URGENT_LOW repeats every 30 minutes of measured time while below 55 and unacknowledged."""

from __future__ import annotations

from glucosestream.domain.alerts import AlertConfig, AlertKind, PatientAlertState, evaluate
from glucosestream.domain.alerts.acknowledgement import acknowledge
from glucosestream.domain.alerts.replay import replay
from glucosestream.domain.identity import alert_id
from tests.unit.domain.alerts.scenario import at, series

P = "p_patient"
URGENT = AlertKind.URGENT_LOW


def urgent_pages(values: list[int]) -> list[tuple[int, int]]:
    """(minute, repeat) of every URGENT_LOW page."""
    alerts = replay([(P, r) for r in series(values)])
    return [(round((a.measured_at - at(0)) / 60_000), a.repeat) for a in alerts if a.kind is URGENT]


def test_a_long_urgent_low_repeats_every_thirty_minutes_of_measured_time() -> None:
    # 50 mg/dL from minute 0 to 95: first page at 0, repeats at 30, 60 and 90.
    assert urgent_pages([50] * 20) == [(0, 0), (30, 1), (60, 2), (90, 3)]


def test_no_repeat_once_glucose_is_back_at_55_or_above() -> None:
    # Below 55 until minute 25, then 55-60 (still < 70: the episode is open): no repeat at 30.
    assert urgent_pages([50] * 6 + [55, 56, 58, 60, 60, 60, 60]) == [(0, 0)]


def test_the_repeat_waits_for_a_reading_below_55() -> None:
    # 58 at minutes 30-35, 52 at 40: the repeat comes at 40, the next 30 minutes after it.
    values = [50] * 6 + [58, 58] + [52] * 8 + [50] * 3
    assert urgent_pages(values) == [(0, 0), (40, 1), (70, 2)]


def test_repeats_have_their_own_deterministic_ids() -> None:
    alerts = [a for a in replay([(P, r) for r in series([50] * 8)]) if a.kind is URGENT]
    first, repeat = alerts
    assert first.alert_id == alert_id(P, "URGENT_LOW", at(0))
    assert repeat.alert_id == alert_id(P, "URGENT_LOW", at(0), repeat=1)
    assert repeat.episode_start == first.episode_start == at(0)
    assert len({first.alert_id, repeat.alert_id}) == 2


def test_an_acknowledged_urgent_low_does_not_repeat() -> None:
    config = AlertConfig()
    state = PatientAlertState()
    readings = series([50] * 20)
    first = evaluate(state, P, readings[:3], at(10), config).alerts
    (page,) = [a for a in first if a.kind is URGENT]
    acknowledge(state, page.alert_id, at(11), "nurse")
    later = evaluate(state, P, readings[3:], at(100), config).alerts
    assert [a for a in later if a.kind is URGENT] == []


def test_acknowledging_a_repeat_stops_the_following_ones() -> None:
    config = AlertConfig()
    state = PatientAlertState()
    readings = series([50] * 20)
    alerts = evaluate(state, P, readings[:7], at(30), config).alerts
    repeat = next(a for a in alerts if a.kind is URGENT and a.repeat == 1)
    acknowledge(state, repeat.alert_id, at(31), "nurse")
    later = evaluate(state, P, readings[7:], at(100), config).alerts
    assert [a for a in later if a.kind is URGENT] == []


def test_redelivering_the_readings_repeats_nothing() -> None:
    config = AlertConfig()
    state = PatientAlertState()
    readings = series([50] * 14)
    once = evaluate(state, P, readings, at(70), config).alerts
    again = evaluate(state, P, readings, at(71), config)
    assert [a.repeat for a in once if a.kind is URGENT] == [0, 1, 2]
    assert again.alerts == []
    assert again.merged == 0


def test_a_reading_arriving_out_of_order_repeats_nothing_already_repeated() -> None:
    config = AlertConfig()
    state = PatientAlertState()
    readings = series([50] * 14)
    late = readings.pop(7)  # minute 35
    alerts = evaluate(state, P, readings, at(70), config).alerts
    assert [a.repeat for a in alerts if a.kind is URGENT] == [0, 1, 2]
    assert evaluate(state, P, [late], at(70), config).alerts == []


def test_the_state_round_trips_with_repeats_and_acknowledgements() -> None:
    config = AlertConfig()
    state = PatientAlertState()
    alerts = evaluate(state, P, series([50] * 8), at(40), config).alerts
    acknowledge(state, alerts[0].alert_id, at(41), "nurse")
    restored = PatientAlertState.from_dict(state.to_dict())
    assert restored.paged == state.paged
    assert restored.acknowledged == state.acknowledged


def test_a_state_stored_before_repeats_existed_still_loads() -> None:
    state = PatientAlertState()
    evaluate(state, P, series([50] * 3), at(10), AlertConfig())
    old = state.to_dict()
    old["paged"] = [page[:4] for page in old["paged"]]
    del old["acknowledged"]
    restored = PatientAlertState.from_dict(old)
    assert [p.repeat for p in restored.paged] == [0] * len(state.paged)
    assert restored.acknowledged == []
