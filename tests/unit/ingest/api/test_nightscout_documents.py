"""Treatments and device status as AndroidAPS and xDrip+ post them, and as followers read them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from glucosestream.ingest.api.service import IngestService
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

Make = Callable[..., IngestService]
SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
BOLUS = {
    "eventType": "Correction Bolus",
    "insulin": 2.5,
    "created_at": "2026-01-05T07:40:00.000Z",
    "enteredBy": "AndroidAPS",
    "identifier": "0f3c9a2e-5b1d-4c7e-9a61-2d8e4b7f1c03",
}
CARBS = {
    "eventType": "Carb Correction",
    "carbs": 20,
    "date": NOW_MS - 30 * 60_000,
    "enteredBy": "xdrip",
}


def post(service: IngestService, collection: str, document: object) -> tuple[int, object, dict]:
    answer = service.post_documents(SECRET, collection, json.dumps(document).encode())
    return answer.status, answer.body, answer.headers


def test_a_treatment_is_stored_once_and_read_back_newest_first(make_service: Make) -> None:
    service = make_service()
    status, stored, _ = post(service, "treatments", [BOLUS, CARBS])
    assert status == 200
    assert stored[0]["_id"] == BOLUS["identifier"]
    assert stored[0]["mills"] == 1_767_598_800_000
    assert stored[1]["created_at"] == "2026-01-05T07:30:00.000Z"
    assert post(service, "treatments", BOLUS)[0] == 200  # a resend: one document
    got = service.get_documents(SECRET, "treatments", 10).body
    assert [t["eventType"] for t in got] == ["Correction Bolus", "Carb Correction"]
    since = service.get_documents(
        SECRET, "treatments", 10, {"find[created_at][$gte]": ["2026-01-05T07:35:00Z"]}
    ).body
    assert [t["insulin"] for t in since] == [2.5]
    carbs = service.get_documents(SECRET, "treatments", 10, {"find[carbs][$gt]": ["0"]}).body
    assert [t["carbs"] for t in carbs] == [20]


def test_device_status_is_its_own_collection(make_service: Make) -> None:
    service = make_service()
    status = {
        "device": "openaps://phone",
        "uploaderBattery": 71,
        "created_at": "2026-01-05T07:55:00Z",
    }
    assert post(service, "devicestatus", status)[0] == 200
    assert service.get_documents(SECRET, "treatments", 10).body == []
    (got,) = service.get_documents(SECRET, "devicestatus", 10).body
    assert got["uploaderBattery"] == 71


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("bolus", "must be a JSON object"),
        ({**BOLUS, "insulin": 250}, "insulin 250 is out of range (0-100 U)"),
        ({**BOLUS, "insulin": "2"}, "insulin must be a number of U"),
        ({**CARBS, "carbs": -5}, "carbs -5 is out of range (0-1000 g)"),
        ({**BOLUS, "created_at": "2026-01-05T07:40:00"}, "has no UTC offset"),
        ({**BOLUS, "created_at": "yesterday"}, "is not ISO 8601"),
        ({**BOLUS, "created_at": "2026-01-06T08:01:00Z"}, "more than 1440 minutes in the future"),
        ({"eventType": "Note", "date": 1_767_598_800}, "date must be epoch milliseconds"),
        ({"eventType": "Note", "notes": "x" * 20_000}, "document over 16384 bytes"),
    ],
)
def test_a_bad_document_is_400_with_the_reason_and_nothing_stored(
    make_service: Make, document: object, reason: str
) -> None:
    service = make_service()
    status, body, _ = post(service, "treatments", [document])
    assert status == 400
    assert reason in body["rejected"][0]["reason"]
    assert service.get_documents(SECRET, "treatments", 10).body == []


def test_a_partly_good_batch_keeps_the_good_ones_and_lists_the_rest(make_service: Make) -> None:
    service = make_service()
    status, stored, headers = post(service, "treatments", [BOLUS, {**CARBS, "carbs": 5000}])
    assert status == 200
    assert len(stored) == 1
    assert headers["X-Rejected-Count"] == "1"
    assert json.loads(headers["X-Rejected"])[0]["index"] == 1


def test_wrong_secret_and_unknown_find_are_refused(make_service: Make) -> None:
    service = make_service()
    assert service.post_documents("0" * 40, "treatments", b"[]").status == 401
    assert service.get_documents(None, "devicestatus", 10).status == 401
    bad = service.get_documents(SECRET, "treatments", 10, {"find[insulin][$near]": ["1"]})
    assert bad.status == 400
    assert "unknown operator $near" in bad.body["message"]


def test_a_deleted_treatment_leaves_the_read_path_and_its_history_says_so(
    make_service: Make, documents: InMemoryDocuments
) -> None:
    service = make_service()
    post(service, "treatments", [BOLUS, CARBS])
    answer = service.delete_treatment(SECRET, BOLUS["identifier"])
    assert answer.body == {"n": 1, "ok": 1}
    kept = service.get_documents(SECRET, "treatments", 10).body
    assert [t["carbs"] for t in kept] == [20]
    ((_, collection), log) = next(iter(documents.log.items()))
    assert collection == "treatments"
    versions = [d.body for d in log.values() if d.identifier == BOLUS["identifier"]]
    assert [v.get("isValid", True) for v in versions] == [True, False]  # v3 history: deleted
