"""Settings and acknowledgements through the state store, racing the consumer like DynamoDB."""

from __future__ import annotations

import pytest

from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.alerts.ports import StoredState
from glucosestream.contract.codec import default_codec
from glucosestream.domain.alerts.acknowledgement import UnknownAlert
from glucosestream.domain.alerts.patient_settings import AlertSettings, InvalidAlertSettings
from glucosestream.domain.reading import GlucoseReading, sensor_status
from tests.factories import FIVE_MINUTES_MS, START_MS, patient, reading
from tests.support.alert_ports import InMemoryStates, Topic

PATIENT = patient(1)


def readings(values: list[int], first_index: int = 0) -> list[GlucoseReading]:
    return [
        reading(
            patient_id=PATIENT,
            device_id="dexcom-g7-0001",
            measured_at=START_MS + (first_index + i) * FIVE_MINUTES_MS,
            produced_at=START_MS + (first_index + i) * FIVE_MINUTES_MS + 4_000,
            glucose_mg_dl=value,
            status=sensor_status(value),
        )
        for i, value in enumerate(values)
    ]


def records(batch: list[GlucoseReading]) -> list[InboundRecord]:
    codec = default_codec()
    return [
        InboundRecord(str(r.measured_at), r.patient_id, codec.encode(r.to_record()), r.measured_at)
        for r in batch
    ]


def consume(store: InMemoryStates, topic: Topic, batch: list[GlucoseReading]) -> list[str]:
    now_s = (batch[-1].measured_at + 1_000) / 1000
    outcome = AlertConsumer(store, topic, clock=lambda: now_s).process(records(batch))
    assert outcome.first_failed is None, outcome.reason
    return [f"{a.kind.value}#{a.repeat}" for a in outcome.alerts]


def test_settings_are_stored_and_applied_from_the_next_reading() -> None:
    store, topic = InMemoryStates(), Topic()
    controls = PatientAlertControls(store)
    # 72-78 mg/dL: no alert at the default low (70).
    assert consume(store, topic, readings([78, 76, 74, 73, 72])) == []
    assert controls.update_settings(PATIENT, {"low_mg_dl": 80}) == AlertSettings(low_mg_dl=80)
    assert controls.settings(PATIENT).low_mg_dl == 80
    # The next readings, still 72-75, are now below the patient's low of 80.
    assert consume(store, topic, readings([74, 73, 72, 73], first_index=5)) == ["LOW#0"]
    assert store.load(PATIENT).settings == AlertSettings(low_mg_dl=80).to_dict()


def test_an_out_of_range_setting_changes_nothing() -> None:
    store = InMemoryStates()
    controls = PatientAlertControls(store)
    controls.update_settings(PATIENT, {"high_mg_dl": 300, "high_alerts": True})
    before = store.load(PATIENT)
    with pytest.raises(InvalidAlertSettings, match="allowed range 60-100"):
        controls.update_settings(PATIENT, {"high_mg_dl": 180, "low_mg_dl": 40})
    assert store.load(PATIENT) == before


def test_the_same_settings_again_write_nothing() -> None:
    store = InMemoryStates()
    controls = PatientAlertControls(store)
    controls.update_settings(PATIENT, {"low_mg_dl": 75})
    writes = store.writes
    controls.update_settings(PATIENT, {"low_mg_dl": 75})
    assert store.writes == writes


def test_a_settings_change_racing_a_batch_loses_neither() -> None:
    """The consumer loaded the state; the clinician's change lands before its save. The save is
    refused, the consumer re-reads (with the new settings) and keeps them in its write."""
    store, topic = InMemoryStates(), Topic()
    controls = PatientAlertControls(store)
    consume(store, topic, readings([90, 88]))

    def clinician_first(_: StoredState) -> None:
        store.before_save = None
        controls.update_settings(PATIENT, {"low_mg_dl": 100})

    store.before_save = clinician_first
    assert consume(store, topic, readings([86, 84, 82, 80], first_index=2)) == ["LOW#0"]
    assert store.refused == 1
    assert store.load(PATIENT).settings == AlertSettings(low_mg_dl=100).to_dict()


def test_an_acknowledged_urgent_low_stops_repeating_and_a_retry_is_harmless() -> None:
    store, topic = InMemoryStates(), Topic()
    controls = PatientAlertControls(store, clock=lambda: START_MS / 1000 + 3_600)
    assert consume(store, topic, readings([50] * 7)) == ["URGENT_LOW#0", "LOW#0", "URGENT_LOW#1"]
    repeat = topic.sent[-1]
    first = controls.acknowledge(PATIENT, repeat.alert_id, "nurse-7")
    again = controls.acknowledge(PATIENT, repeat.alert_id, "nurse-8")
    assert first.new
    assert not again.new
    assert again.acknowledgement.by == "nurse-7"
    assert consume(store, topic, readings([50] * 12, first_index=7)) == []


def test_without_acknowledgement_it_repeats_and_redelivery_repeats_nothing_twice() -> None:
    store, topic = InMemoryStates(), Topic()
    batch = readings([50] * 19)
    assert consume(store, topic, batch[:10]) == ["URGENT_LOW#0", "LOW#0", "URGENT_LOW#1"]
    assert consume(store, topic, batch) == ["URGENT_LOW#2", "URGENT_LOW#3"]
    assert consume(store, topic, batch) == []
    assert [a.repeat for a in topic.sent if a.kind.value == "URGENT_LOW"] == [0, 1, 2, 3]
    assert len({a.alert_id for a in topic.sent}) == len(topic.sent) == 5


def test_acknowledging_an_unknown_alert_is_refused_and_writes_nothing() -> None:
    store, topic = InMemoryStates(), Topic()
    consume(store, topic, readings([50] * 3))
    writes = store.writes
    with pytest.raises(UnknownAlert):
        PatientAlertControls(store).acknowledge(PATIENT, "f" * 32, "nurse")
    assert store.writes == writes


def test_quiet_hours_silence_low_but_publish_it() -> None:
    store, topic = InMemoryStates(), Topic()
    PatientAlertControls(store).update_settings(PATIENT, {"quiet_hours": "00:00-23:59"})
    consume(store, topic, readings([68, 66, 65, 64, 50]))
    assert {a.kind.value: a.silenced for a in topic.sent} == {"LOW": True, "URGENT_LOW": False}
