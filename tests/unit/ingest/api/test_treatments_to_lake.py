"""Treatments reach the lake: every insulin or carbohydrate treatment the API stores, and every
edit or deletion of one, goes on the treatments stream as a GlucoseTreatment version before it
is stored; a stream that does not take it stores nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from glucosestream.domain.treatment import GlucoseTreatment
from glucosestream.ingest.api.service import IngestService
from glucosestream.ingest.nightscout_documents import lake_treatment
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS, FakePublisher, site_patient

Make = Callable[..., IngestService]
SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
BOLUS = {
    "eventType": "Meal Bolus",
    "insulin": 4,
    "carbs": 45,
    "created_at": "2026-01-05T08:40:00.000+01:00",
    "enteredBy": "AndroidAPS",
    "_id": "65a1f0c2e4b0a1b2c3d4e5f6",
}
NOTE = {"eventType": "Note", "notes": "new sensor", "created_at": "2026-01-05T07:00:00Z"}


def send(service: IngestService, document: object, *, upsert: bool = False) -> int:
    body = json.dumps(document).encode()
    return service.post_documents(SECRET, "treatments", body, upsert=upsert).status


def test_a_bolus_goes_to_the_stream_with_its_amounts_time_and_offset(
    make_service: Make, treatments_stream: FakePublisher
) -> None:
    assert send(make_service(), [BOLUS, NOTE]) == 200
    (version,) = treatments_stream.taken  # the note gives neither insulin nor carbs
    assert version == GlucoseTreatment(
        treatment_id="65a1f0c2e4b0a1b2c3d4e5f6",
        patient_id=version.patient_id,
        event_type="Meal Bolus",
        treated_at=1_767_598_800_000,  # 07:40 UTC
        utc_offset_minutes=60,  # from created_at's +01:00
        insulin_units=4.0,
        carbs_g=45.0,
        entered_by="AndroidAPS",
        is_valid=True,
        modified_at=NOW_MS,
        produced_at=NOW_MS,
    )
    assert version.patient_id.startswith("p_")


def test_a_stream_that_does_not_take_it_stores_nothing_and_says_so(
    make_service: Make, treatments_stream: FakePublisher, documents: InMemoryDocuments
) -> None:
    treatments_stream.fail_after = 0
    service = make_service()
    answer = service.post_documents(SECRET, "treatments", json.dumps(BOLUS).encode())
    assert answer.status == 503
    assert "treatments stream is unavailable" in answer.body["message"]
    assert answer.headers["Retry-After"]
    assert service.get_documents(SECRET, "treatments", 10).body == []
    treatments_stream.fail_after = None
    assert send(service, BOLUS) == 200  # the uploader's resend
    assert [t["_id"] for t in service.get_documents(SECRET, "treatments", 10).body] == [
        BOLUS["_id"]
    ]


def test_an_edit_and_a_deletion_are_versions_even_of_a_note(
    make_service: Make, treatments_stream: FakePublisher
) -> None:
    service = make_service()
    note = {**NOTE, "_id": "65a1f0c2e4b0a1b2c3d4e5aa"}
    assert send(service, note, upsert=True) == 200
    assert treatments_stream.taken == []  # a new note is none of the lake's business
    # xDrip+ PUTs the note again, now with carbs: an edit of a stored treatment.
    assert send(service, {**note, "carbs": 12}, upsert=True) == 200
    assert [(v.carbs_g, v.is_valid) for v in treatments_stream.taken] == [(12.0, True)]
    assert service.delete_treatment(SECRET, note["_id"]).body == {"n": 1, "ok": 1}
    deletion = treatments_stream.taken[-1]
    assert (deletion.treatment_id, deletion.is_valid) == (note["_id"], False)
    assert deletion.modified_at > treatments_stream.taken[0].modified_at


def test_a_deletion_the_stream_refuses_leaves_the_treatment_in_place(
    make_service: Make, treatments_stream: FakePublisher
) -> None:
    service = make_service()
    assert send(service, BOLUS) == 200
    treatments_stream.fail_after = 0
    assert service.delete_treatment(SECRET, BOLUS["_id"]).status == 503
    assert len(service.get_documents(SECRET, "treatments", 10).body) == 1


def test_lake_treatment_of_stored_documents() -> None:
    stored = {"_id": "t1", "date": NOW_MS, "srvModified": NOW_MS + 5}
    assert lake_treatment("p_x", {**stored, "eventType": "Note"}, NOW_MS, changed=False) is None
    version = lake_treatment("p_x", {**stored, "insulin": 1}, NOW_MS, changed=False)
    assert version is not None
    assert (version.insulin_units, version.carbs_g, version.event_type) == (1.0, None, "")
    assert version.utc_offset_minutes == 0  # none sent
    # An impossible utcOffset is not the lake's offset; a deleted document is a version.
    odd = lake_treatment("p_x", {**stored, "utcOffset": 5000, "isValid": False}, 1, changed=False)
    assert odd is not None
    assert (odd.utc_offset_minutes, odd.is_valid) == (0, False)


def test_an_old_treatment_moved_by_a_put_is_replaced_not_doubled(
    make_service: Make, treatments_stream: FakePublisher, documents: InMemoryDocuments
) -> None:
    """xDrip+ PUTs every treatment with its ``_id``; one edited a month on, behind 5,001 newer
    treatments, with a new time and its carbs removed, replaces the stored one (it was stored a
    second time beside it) and reaches the lake as an edit (it was taken for a new note, none
    of the lake's business, so the lake kept the carbs)."""
    from glucosestream.ingest.api.documents import Document

    service = make_service()
    patient = site_patient(service)
    old_ms = NOW_MS - 30 * 86_400_000
    identifier = "65a1f0c2e4b0a1b2c3d4e5bb"
    stored = {"_id": identifier, "eventType": "Carb Correction", "carbs": 20, "date": old_ms}
    newer = [
        Document(NOW_MS - k * 300_000, f"{k:024x}", {"_id": f"{k:024x}", "insulin": 0.1})
        for k in range(1, 5_002)
    ]
    documents.put(patient, "treatments", [Document(old_ms, identifier, stored), *newer])
    edited = {"_id": identifier, "eventType": "Note", "date": old_ms + 600_000}
    assert send(service, edited, upsert=True) == 200
    found = documents.with_identifiers(patient, "treatments", [identifier])
    assert [(d.date_ms, d.body.get("carbs")) for d in found] == [(old_ms + 600_000, None)]
    assert len(documents.newest(patient, "treatments", limit=6_000)) == 5_002
    (version,) = treatments_stream.taken
    assert (version.treatment_id, version.carbs_g, version.is_valid) == (identifier, None, True)


def test_a_put_holding_one_id_twice_keeps_the_last(
    make_service: Make, treatments_stream: FakePublisher, documents: InMemoryDocuments
) -> None:
    """Nightscout applies a PUT's documents one after another, so of two with the same ``_id``
    the last stays: one stored treatment, at the last one's time, and one lake version (both
    were stored, at their two times)."""
    service = make_service()
    first = {**BOLUS, "created_at": "2026-01-05T08:40:00.000+01:00"}
    last = {**BOLUS, "carbs": 30, "created_at": "2026-01-05T08:50:00.000+01:00"}
    answer = service.post_documents(
        SECRET, "treatments", json.dumps([first, last]).encode(), upsert=True
    )
    assert answer.status == 200
    assert [(d["_id"], d["carbs"]) for d in answer.body] == [(BOLUS["_id"], 30)]
    found = documents.with_identifiers(site_patient(service), "treatments", [BOLUS["_id"]])
    assert [(d.date_ms, d.body["carbs"]) for d in found] == [(1_767_599_400_000, 30)]
    assert [(v.carbs_g, v.treated_at) for v in treatments_stream.taken] == [
        (30.0, 1_767_599_400_000)
    ]


CAREPORTAL_CARBS = {
    "eventType": "Carb Correction",
    "carbs": 15,
    "created_at": "2026-01-05T07:20:00.000Z",
    "enteredBy": "careportal",
}


def test_a_careportal_resend_that_differs_replaces_the_treatment_not_doubles_it(
    make_service: Make, treatments_stream: FakePublisher
) -> None:
    """The careportal sends no ``_id``; its resend carries an empty ``notes`` the first did not.
    Nightscout v1 upserts on ``{created_at, eventType}``: one treatment, the second replacing
    the first. So here: one ``_id``, one stored treatment, and the lake gets a later version of
    the same treatment (curated keeps one 15 g row), not a second 15 g treatment."""
    service = make_service()
    first = service.post_documents(SECRET, "treatments", json.dumps(CAREPORTAL_CARBS).encode())
    resent = {**CAREPORTAL_CARBS, "notes": ""}
    second = service.post_documents(SECRET, "treatments", json.dumps(resent).encode())
    assert first.body[0]["_id"] == second.body[0]["_id"]
    (stored,) = service.get_documents(SECRET, "treatments", 10).body
    assert (stored["_id"], stored["notes"]) == (first.body[0]["_id"], "")
    created, edited = treatments_stream.taken
    assert created.treatment_id == edited.treatment_id == first.body[0]["_id"]
    assert (created.carbs_g, edited.carbs_g) == (15.0, 15.0)
    assert edited.modified_at > created.modified_at  # the edit is the version curated keeps
    # Another event type at the same moment is another treatment, as in Nightscout.
    bolus = {**CAREPORTAL_CARBS, "eventType": "Correction Bolus", "insulin": 1}
    del bolus["carbs"]
    assert send(service, bolus) == 200
    assert len(service.get_documents(SECRET, "treatments", 10).body) == 2


def test_one_batch_holding_a_treatment_twice_stores_it_once(
    make_service: Make, treatments_stream: FakePublisher
) -> None:
    """Nightscout applies a batch's upserts in order: of two without ``_id`` at one
    ``created_at`` and ``eventType``, the last stays. Both items are answered as stored."""
    service = make_service()
    batch = [CAREPORTAL_CARBS, {**CAREPORTAL_CARBS, "carbs": 20}]
    answer = service.post_documents(SECRET, "treatments", json.dumps(batch).encode())
    assert [(d["_id"], d["carbs"]) for d in answer.body] == [(answer.body[0]["_id"], 20)] * 2
    assert [t["carbs"] for t in service.get_documents(SECRET, "treatments", 10).body] == [20]
    assert [v.carbs_g for v in treatments_stream.taken] == [20.0]


def test_a_resend_of_a_treatment_stored_under_a_content_hash_replaces_it(
    make_service: Make, treatments_stream: FakePublisher, documents: InMemoryDocuments
) -> None:
    """Treatments stored before identities were time and event type have a hash of their
    content as ``_id``: a resend that differs (the careportal's empty ``notes``) is found by
    its ``created_at`` and ``eventType`` and replaces it, keeping its ``_id``, so the lake's
    treatment is the same one."""
    from glucosestream.ingest.api.documents import Document

    service = make_service()
    treated_ms = 1_767_597_600_000  # 07:20 UTC
    legacy_id = hashlib.sha256(b"whatever the content was").hexdigest()[:24]
    legacy = {
        **CAREPORTAL_CARBS,
        "_id": legacy_id,
        "identifier": legacy_id,
        "mills": treated_ms,
        "date": treated_ms,
        "srvModified": NOW_MS - 3_600_000,
    }
    documents.put(
        site_patient(service),
        "treatments",
        [Document(treated_ms, legacy_id, legacy, NOW_MS - 3_600_000)],
    )
    answer = service.post_documents(
        SECRET, "treatments", json.dumps({**CAREPORTAL_CARBS, "notes": ""}).encode()
    )
    assert answer.body[0]["_id"] == legacy_id
    (stored,) = service.get_documents(SECRET, "treatments", 10).body
    assert (stored["_id"], stored["notes"]) == (legacy_id, "")
    (version,) = treatments_stream.taken
    assert (version.treatment_id, version.carbs_g) == (legacy_id, 15.0)


def test_androidaps_extended_carbs_planned_hours_ahead_are_stored_and_reach_the_lake(
    make_service: Make, treatments_stream: FakePublisher
) -> None:
    # AndroidAPS's eCarbs: 60 g spread as 20 g now, in 2 hours and in 4 hours (times it plans).
    planned = [
        {
            "eventType": "Carb Correction",
            "carbs": 20,
            "date": NOW_MS + hours * 3_600_000,
            "enteredBy": "AndroidAPS",
            "identifier": f"ecarbs-{hours}",
        }
        for hours in (0, 2, 4)
    ]
    service = make_service()
    assert send(service, planned) == 200
    assert sorted(v.treated_at for v in treatments_stream.taken) == [
        NOW_MS,
        NOW_MS + 2 * 3_600_000,
        NOW_MS + 4 * 3_600_000,
    ]
    stored = service.get_documents(
        SECRET, "treatments", 10, {"find[created_at][$gte]": ["2026-01-05T07:00:00Z"]}
    ).body
    assert {t["_id"] for t in stored} == {"ecarbs-0", "ecarbs-2", "ecarbs-4"}
