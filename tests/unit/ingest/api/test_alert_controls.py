"""Alert settings and acknowledgements through the API's logic: tenancy, ranges, idempotency."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
from glucosestream.contract.codec import default_codec
from glucosestream.domain.identity import pseudonymise
from glucosestream.ingest.api.service import IngestService
from tests.support.alert_ports import InMemoryStates, Topic
from tests.unit.ingest.support import CLINIC_KEY, HOME_KEY, KEY, NOW_MS, FakePublisher, reading_item

Make = Callable[..., IngestService]
PATIENT = "clinic-7/patient-0001"


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def test_get_answers_the_defaults_for_a_patient_never_configured(make_service: Make) -> None:
    answer = make_service().get_alert_settings(CLINIC_KEY, PATIENT)
    assert answer.status == 200
    assert answer.body == {
        "patient_id": PATIENT,
        "settings": {
            "low_mg_dl": 70,
            "high_mg_dl": 250,
            "high_alerts": False,
            "quiet_hours": "off",
        },
    }


def test_quiet_hours_turned_off_are_answered_off_as_sent(
    make_service: Make, alert_states: InMemoryStates
) -> None:
    service = make_service()
    service.patch_alert_settings(CLINIC_KEY, PATIENT, body({"quiet_hours": "22:00-07:00"}))
    answer = service.patch_alert_settings(CLINIC_KEY, PATIENT, body({"quiet_hours": "off"}))
    assert answer.status == 200
    assert answer.body["settings"]["quiet_hours"] == "off"
    assert service.get_alert_settings(CLINIC_KEY, PATIENT).body["settings"]["quiet_hours"] == "off"
    stored = alert_states.load(pseudonymise(PATIENT, KEY))
    assert stored.settings["quiet_hours"] is None  # the stored meaning is unchanged


def test_the_tenant_prefix_alone_is_refused_as_no_patient_id(make_service: Make) -> None:
    answer = make_service().patch_alert_settings(CLINIC_KEY, "clinic-7/", body({"low_mg_dl": 80}))
    assert answer.status == 400
    assert answer.body["message"] == (
        "patient_id 'clinic-7/' is the tenant prefix with no id after it"
    )


def test_patch_changes_only_the_fields_sent_and_get_reads_them_back(make_service: Make) -> None:
    service = make_service()
    first = service.patch_alert_settings(CLINIC_KEY, PATIENT, body({"low_mg_dl": 80}))
    second = service.patch_alert_settings(
        CLINIC_KEY, PATIENT, body({"high_alerts": True, "quiet_hours": "22:30-06:30"})
    )
    assert first.status == second.status == 200
    expected = {
        "low_mg_dl": 80,
        "high_mg_dl": 250,
        "high_alerts": True,
        "quiet_hours": "22:30-06:30",
    }
    assert second.body["settings"] == expected
    assert service.get_alert_settings(CLINIC_KEY, PATIENT).body["settings"] == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"low_mg_dl": 55}, "low_mg_dl: 55 is out of range (allowed range 60-100 mg/dL)"),
        ({"high_mg_dl": 450}, "high_mg_dl: 450 is out of range (allowed range 120-400 mg/dL)"),
        ({"low_mg_dl": 80, "high_mg_dl": 100}, "high_mg_dl: 100 is out of range"),
        ({"quiet_hours": "25:00-06:00"}, 'quiet_hours: "25:00" is not a 24-hour time'),
        ({"volume": "loud"}, "volume: unknown setting"),
    ],
)
def test_a_bad_value_is_400_with_the_allowed_range_and_nothing_changes(
    make_service: Make, alert_states: InMemoryStates, change: dict, message: str
) -> None:
    service = make_service()
    service.patch_alert_settings(CLINIC_KEY, PATIENT, body({"low_mg_dl": 75}))
    before = alert_states.load(pseudonymise(PATIENT, KEY))
    answer = service.patch_alert_settings(CLINIC_KEY, PATIENT, body(change))
    assert answer.status == 400
    assert answer.body["message"].startswith(message)
    assert alert_states.load(pseudonymise(PATIENT, KEY)) == before


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"", 400, "no setting to change"),
        (b"{}", 400, "no setting to change"),
        (b"[1]", 400, "expected an object"),
        (b"{low", 400, "not JSON"),
        (b"{" + b" " * 5000 + b"}", 413, "exceeds"),
    ],
)
def test_bad_bodies_are_refused(
    make_service: Make, payload: bytes, status: int, message: str
) -> None:
    answer = make_service().patch_alert_settings(CLINIC_KEY, PATIENT, payload)
    assert answer.status == status
    assert message in answer.body["message"]


def test_only_the_patients_tenant_may_read_or_change_them(make_service: Make) -> None:
    service = make_service()
    assert service.get_alert_settings(HOME_KEY, PATIENT).status == 403
    assert service.patch_alert_settings(HOME_KEY, PATIENT, body({"low_mg_dl": 90})).status == 403
    assert service.get_alert_settings(None, PATIENT).status == 401
    assert service.get_alert_settings("wrong-key", PATIENT).status == 401
    assert service.get_alert_settings(CLINIC_KEY, None).status == 400
    assert service.get_alert_settings(CLINIC_KEY, PATIENT).body["settings"]["low_mg_dl"] == 70


def urgent_low_alert_id(
    service: IngestService, stream: FakePublisher, states: InMemoryStates
) -> str:
    """Upload three 50 mg/dL readings of PATIENT through the API, run the alerts consumer over
    what reached the stream, and return the URGENT_LOW's id."""
    items = [
        reading_item(patient_id=PATIENT, measured_at=NOW_MS - (3 - i) * 300_000, glucose=50)
        for i in range(3)
    ]
    assert service.post_readings(CLINIC_KEY, body(items)).status == 202
    codec = default_codec()
    records = [
        InboundRecord(str(i), r.patient_id, codec.encode(r.to_record()), NOW_MS)
        for i, r in enumerate(stream.taken)
    ]
    topic = Topic()
    AlertConsumer(states, topic, clock=lambda: NOW_MS / 1000).process(records)
    (alert,) = [a for a in topic.sent if a.kind.value == "URGENT_LOW"]
    return alert.alert_id


def test_acknowledge_records_once_and_a_retry_answers_the_first(
    make_service: Make, stream: FakePublisher, alert_states: InMemoryStates
) -> None:
    service = make_service()
    alert_id = urgent_low_alert_id(service, stream, alert_states)
    first = service.acknowledge_alert(CLINIC_KEY, alert_id, body({"patient_id": PATIENT}))
    writes = alert_states.writes
    again = service.acknowledge_alert(CLINIC_KEY, alert_id, body({"patient_id": PATIENT}))
    assert first.status == again.status == 200
    assert first.body == {
        "alert_id": alert_id,
        "acknowledged_at": NOW_MS,
        "acknowledged_by": "clinic-7-uploader",
        "already_acknowledged": False,
    }
    assert again.body == {**first.body, "already_acknowledged": True}
    assert alert_states.writes == writes  # the retry wrote nothing


@pytest.mark.parametrize(
    ("key", "alert", "document", "status", "message"),
    [
        (CLINIC_KEY, "0" * 32, {"patient_id": PATIENT}, 404, "no such alert"),
        (CLINIC_KEY, "NOT-AN-ID", {"patient_id": PATIENT}, 400, "32 lowercase hex"),
        (CLINIC_KEY, None, {}, 400, "patient_id is required"),
        (CLINIC_KEY, None, {"patient_id": 7}, 400, "patient_id is required"),
        (HOME_KEY, None, {"patient_id": PATIENT}, 403, "may not manage"),
        (None, None, {"patient_id": PATIENT}, 401, "missing x-api-key"),
        (
            CLINIC_KEY,
            None,
            {"patient_id": PATIENT, "by": "nurse-jo"},
            400,
            "by: unknown field; an acknowledgement takes only patient_id",
        ),
    ],
)
def test_acknowledge_refusals_change_nothing(
    make_service: Make,
    stream: FakePublisher,
    alert_states: InMemoryStates,
    key: str | None,
    alert: str | None,
    document: dict,
    status: int,
    message: str,
) -> None:
    service = make_service()
    alert_id = urgent_low_alert_id(service, stream, alert_states)
    before = alert_states.load(pseudonymise(PATIENT, KEY))
    answer = service.acknowledge_alert(key, alert or alert_id, body(document))
    assert answer.status == status
    assert message in answer.body["message"]
    assert alert_states.load(pseudonymise(PATIENT, KEY)) == before
