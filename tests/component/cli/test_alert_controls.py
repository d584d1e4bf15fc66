"""`glucosestream alerts settings` and `alerts ack` in aws mode against moto's DynamoDB: the
settings land in the patient's state item, an acknowledgement stops the repeats, bad values
exit 2 and change nothing."""

from __future__ import annotations

import json

import boto3
import pytest

from glucosestream.adapters.patient_state import PatientStateStore
from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
from glucosestream.cli.main import main
from glucosestream.contract.codec import default_codec
from glucosestream.domain.identity import pseudonymise
from glucosestream.settings import Settings
from tests.factories import FIVE_MINUTES_MS, START_MS, reading
from tests.support.alert_ports import Topic
from tests.support.settings import AWS_MODE_PSEUDONYM_KEY as PSEUDONYM_KEY

SOURCE_ID = "clinic-7/patient-0042"


@pytest.fixture
def aws(aws_mode: Settings) -> Settings:
    return aws_mode


def store(settings: Settings) -> PatientStateStore:
    return PatientStateStore(boto3.client("dynamodb"), settings.names.patient_state_table)


def pseudonym() -> str:
    return pseudonymise(SOURCE_ID, PSEUDONYM_KEY.encode())


def test_settings_are_changed_printed_and_stored(
    aws: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["alerts", "settings", "--patient", SOURCE_ID, "--low", "80", "--quiet-hours"]
    assert main([*argv, "22:00-06:30", "--high-alerts", "on"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = {
        "low_mg_dl": 80,
        "high_mg_dl": 250,
        "high_alerts": True,
        "quiet_hours": "22:00-06:30",
    }
    assert printed == {"patient_id": pseudonym(), "settings": expected}
    assert store(aws).load(pseudonym()).settings == expected
    assert main(["alerts", "settings", "--pseudonym", pseudonym()]) == 0
    assert json.loads(capsys.readouterr().out)["settings"] == expected


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--low", "59"], "--low: 59 is out of range (allowed range 60-100 mg/dL)"),
        (["--high", "500"], "--high: 500 is out of range (allowed range 120-400 mg/dL)"),
        (["--quiet-hours", "late"], '--quiet-hours: "late" is not HH:MM-HH:MM'),
    ],
)
def test_an_out_of_range_value_exits_2_and_changes_nothing(
    aws: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], reason: str
) -> None:
    assert main(["alerts", "settings", "--patient", SOURCE_ID, "--low", "75"]) == 0
    before = store(aws).load(pseudonym())
    capsys.readouterr()
    assert main(["alerts", "settings", "--patient", SOURCE_ID, *argv]) == 2
    err = capsys.readouterr().err
    assert reason in err
    assert "nothing was changed" in err
    assert store(aws).load(pseudonym()) == before


def test_ack_stops_the_repeats_of_an_urgent_low(
    aws: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    codec = default_codec()
    readings = [
        reading(
            patient_id=pseudonym(),
            measured_at=START_MS + i * FIVE_MINUTES_MS,
            glucose_mg_dl=48,
        )
        for i in range(20)
    ]
    records = [
        InboundRecord(str(i), r.patient_id, codec.encode(r.to_record()), r.measured_at + 5_000)
        for i, r in enumerate(readings)
    ]
    topic = Topic()

    def consume(batch: list[InboundRecord]) -> None:
        last_arrival_s = batch[-1].arrived_at_ms / 1000
        AlertConsumer(store(aws), topic, clock=lambda: last_arrival_s).process(batch)

    consume(records[:7])  # minutes 0-30: the urgent low and its first repeat
    first = next(a for a in topic.sent if a.kind.value == "URGENT_LOW")
    assert [a.repeat for a in topic.sent if a.kind.value == "URGENT_LOW"] == [0, 1]
    assert main(["alerts", "ack", first.alert_id, "--patient", SOURCE_ID, "--by", "dr-who"]) == 0
    assert f"acknowledged: alert {first.alert_id} by dr-who" in capsys.readouterr().out
    consume(records[7:])  # minutes 35-95: no repeat
    assert [a.repeat for a in topic.sent if a.kind.value == "URGENT_LOW"] == [0, 1]
    assert main(["alerts", "ack", first.alert_id, "--patient", SOURCE_ID]) == 0
    assert "already acknowledged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("alert_id", "reason"),
    [("x" * 32, "32 lowercase hex digits"), ("a" * 32, "no alert " + "a" * 32)],
)
def test_ack_of_a_malformed_or_unknown_alert_exits_2(
    aws: Settings, capsys: pytest.CaptureFixture[str], alert_id: str, reason: str
) -> None:
    assert main(["alerts", "ack", alert_id, "--patient", SOURCE_ID]) == 2
    assert reason in capsys.readouterr().err
