"""Acknowledging an alert: idempotent, only alerts the patient's state knows."""

from __future__ import annotations

import pytest

from glucosestream.domain.alerts import AlertConfig, PatientAlertState, evaluate
from glucosestream.domain.alerts.acknowledgement import UnknownAlert, acknowledge
from tests.unit.domain.alerts.scenario import at, series

P = "p_patient"


def state_with_an_urgent_low() -> tuple[PatientAlertState, str]:
    state = PatientAlertState()
    alerts = evaluate(state, P, series([50, 50, 50]), at(10), AlertConfig()).alerts
    return state, alerts[0].alert_id


def test_the_first_acknowledgement_is_recorded_and_kept() -> None:
    state, alert = state_with_an_urgent_low()
    first = acknowledge(state, alert, at(12), "nurse-a")
    second = acknowledge(state, alert, at(15), "nurse-b")
    assert first.new
    assert not second.new
    assert second.acknowledgement == first.acknowledgement
    assert (first.acknowledgement.acknowledged_at, first.acknowledgement.by) == (at(12), "nurse-a")
    assert len(state.acknowledged) == 1


def test_an_alert_the_state_does_not_know_is_refused_and_nothing_changes() -> None:
    state, _ = state_with_an_urgent_low()
    before = state.to_dict()
    with pytest.raises(UnknownAlert):
        acknowledge(state, "0" * 32, at(12), "nurse")
    assert state.to_dict() == before
