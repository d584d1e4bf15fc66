"""An alerts-feed message read as the glucose_alert.v1 alert it holds: what the alerts topic
publishes comes back equal, raw or in SNS's envelope; older and newer records are read as an
Avro reader would; anything else is refused with the reason and without its values."""

from __future__ import annotations

import json

import pytest

from glucosestream.adapters.alert_topic import alert_message
from glucosestream.contract.alert_message import NotAnAlert, alert_of_message
from glucosestream.domain.alerts import Alert, AlertKind, Severity

FALL = Alert(
    alert_id="5f0c9a0e4b1d2c3e4f5a6b7c8d9e0f1a",
    patient_id="p_8b57fd516f31aa00",
    kind=AlertKind.URGENT_LOW_SOON,
    severity=Severity.CRITICAL,
    measured_at=1_767_571_200_000,
    utc_offset_minutes=-300,
    glucose_mg_dl=63,
    episode_start=1_767_570_900_000,
    rate_mg_dl_per_min=-2.15,
    projected_mg_dl=20.0,
    raised_at=1_767_571_203_500,
    repeat=0,
    silenced=False,
)


def test_what_the_topic_publishes_comes_back_equal_raw_or_in_the_sns_envelope() -> None:
    published = alert_message(FALL)
    envelope = json.dumps({"Type": "Notification", "MessageId": "m-1", "Message": published})
    assert alert_of_message(published) == FALL
    assert alert_of_message(envelope) == FALL


def test_older_records_take_the_schemas_defaults_and_newer_fields_are_ignored() -> None:
    record = FALL.to_record()
    older = {k: v for k, v in record.items() if k not in {"repeat", "silenced"}}
    assert alert_of_message(json.dumps(older)) == FALL
    newer = {**record, "added_in_v2": {"anything": 1}}
    assert alert_of_message(json.dumps(newer)) == FALL


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("p_8b57fd516f31aa00 fell", "not JSON (JSONDecodeError)"),
        ('["p_8b57fd516f31aa00"]', "JSON list, not an object"),
        (json.dumps({"Message": {"kind": "LOW"}}), "an SNS envelope whose Message is not text"),
        (json.dumps({"Message": "p_8b57fd516f31aa00"}), "not JSON (JSONDecodeError)"),
        (
            json.dumps({k: v for k, v in FALL.to_record().items() if k != "raised_at"}),
            "no raised_at",
        ),
        (json.dumps({**FALL.to_record(), "kind": "SOMEWHAT_LOW"}), "kind not as"),
        (json.dumps({**FALL.to_record(), "glucose_mg_dl": 63.5}), "glucose_mg_dl not as"),
        (
            json.dumps({**FALL.to_record(), "silenced": "no", "repeat": "1"}),
            "repeat, silenced not as io.glucosestream.GlucoseAlert v1 defines",
        ),
    ],
)
def test_anything_else_is_refused_with_the_reason_and_without_its_values(
    body: str, reason: str
) -> None:
    with pytest.raises(NotAnAlert) as refused:
        alert_of_message(body)
    assert reason in str(refused.value)
    assert "p_8b57fd516f31aa00" not in str(refused.value)
