"""A patient's alert settings: ranges, partial updates, and their effect on the rules."""

from __future__ import annotations

import pytest

from glucosestream.domain.alerts import AlertConfig, AlertKind
from glucosestream.domain.alerts.patient_settings import AlertSettings, InvalidAlertSettings
from glucosestream.domain.alerts.quiet_hours import QuietHours
from glucosestream.domain.alerts.replay import replay
from tests.unit.domain.alerts.scenario import series


def test_defaults_are_the_consensus_thresholds() -> None:
    config = AlertSettings().applied_to(AlertConfig())
    assert (config.level_1_hypo, config.level_2_hyper, config.hyper_alerts) == (70, 250, False)
    assert config.quiet_hours is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"low_mg_dl": 59}, "low_mg_dl: 59 is out of range (allowed range 60-100 mg/dL)"),
        ({"low_mg_dl": 101}, "low_mg_dl: 101 is out of range (allowed range 60-100 mg/dL)"),
        ({"high_mg_dl": 119}, "high_mg_dl: 119 is out of range (allowed range 120-400 mg/dL)"),
        ({"high_mg_dl": 401}, "high_mg_dl: 401 is out of range (allowed range 120-400 mg/dL)"),
        ({"low_mg_dl": 72.5}, "low_mg_dl: must be a whole number of mg/dL (allowed range 60-100"),
        ({"low_mg_dl": "80"}, "low_mg_dl: must be a whole number"),
        ({"high_mg_dl": True}, "high_mg_dl: must be a whole number"),
        ({"high_alerts": "yes"}, "high_alerts: must be true or false"),
        ({"quiet_hours": "22-7"}, "quiet_hours: "),
        ({"quiet_hours": 22}, 'quiet_hours: must be "HH:MM-HH:MM", "off" or null'),
        ({"snooze": 5}, "snooze: unknown setting; the settings are low_mg_dl, high_mg_dl"),
    ],
)
def test_a_bad_value_is_refused_with_the_allowed_range_and_nothing_changes(
    changes: dict, message: str
) -> None:
    current = AlertSettings(low_mg_dl=80)
    with pytest.raises(InvalidAlertSettings) as refused:
        current.updated(changes)
    assert str(refused.value).startswith(message)
    assert current == AlertSettings(low_mg_dl=80)


def test_the_bounds_themselves_are_allowed() -> None:
    for low, high in ((60, 120), (100, 400)):
        assert AlertSettings().updated({"low_mg_dl": low, "high_mg_dl": high}).low_mg_dl == low


def test_an_update_keeps_the_settings_it_does_not_name_and_round_trips() -> None:
    settings = AlertSettings().updated({"low_mg_dl": 80, "quiet_hours": "22:00-07:00"})
    settings = settings.updated({"high_alerts": True})
    assert settings == AlertSettings(80, 250, True, QuietHours(22 * 60, 7 * 60))
    assert settings.to_dict() == {
        "low_mg_dl": 80,
        "high_mg_dl": 250,
        "high_alerts": True,
        "quiet_hours": "22:00-07:00",
    }
    assert AlertSettings.from_dict(settings.to_dict()) == settings
    assert settings.updated({"quiet_hours": "off"}).quiet_hours is None
    assert AlertSettings.from_dict(None) == AlertSettings()


def test_a_higher_low_threshold_pages_low_earlier() -> None:
    # 78-72 mg/dL for 20 minutes: nothing at the default 70, LOW at 80 after 15 minutes.
    readings = series([85, 78, 76, 74, 73, 72, 74, 76, 85, 90, 95, 100])
    pairs = [("p", r) for r in readings]
    assert replay(pairs) == []
    config = AlertSettings(low_mg_dl=80).applied_to(AlertConfig())
    kinds = [a.kind for a in replay(pairs, config)]
    assert kinds == [AlertKind.LOW, AlertKind.RECOVERED]


def test_high_alerts_follow_the_switch_and_the_threshold() -> None:
    readings = [("p", r) for r in series([150, 190, 195, 200, 198, 205, 150])]
    assert replay(readings) == []
    on_at_180 = AlertSettings(high_mg_dl=180, high_alerts=True).applied_to(AlertConfig())
    assert [a.kind for a in replay(readings, on_at_180)] == [AlertKind.HIGH]
    on_at_250 = AlertSettings(high_alerts=True).applied_to(AlertConfig())
    assert replay(readings, on_at_250) == []
