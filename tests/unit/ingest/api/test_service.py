"""The API's application logic with a fake stream: statuses, reasons, limits, idempotency."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from glucosestream.domain.identity import pseudonymise
from glucosestream.ingest.api.service import IngestService, Limits
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.ingest.support import (
    CLINIC_KEY,
    HOME_KEY,
    KEY,
    NIGHTSCOUT_SECRET,
    NOW_MS,
    FakePublisher,
    reading_item,
)

Make = Callable[..., IngestService]
SECRET_HEADER = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def batch(count: int, patient: str = "clinic-7/patient-0001") -> list[dict[str, object]]:
    return [
        reading_item(
            patient_id=patient, measured_at=NOW_MS - (count - i) * 300_000, glucose=100 + i % 50
        )
        for i in range(count)
    ]


def test_accepted_only_after_the_stream_took_them(
    make_service: Make, stream: FakePublisher
) -> None:
    answer = make_service().post_readings(CLINIC_KEY, body(batch(288)))
    assert answer.status == 202
    assert answer.body["accepted"] == 288
    assert answer.body["rejected"] == []
    assert [r.event_id for r in stream.taken] == answer.body["event_ids"]


def test_mixed_batch_lists_each_rejection_by_index(
    make_service: Make, stream: FakePublisher
) -> None:
    items = [*batch(2), reading_item(unit="g/L"), reading_item(patient_id="clinic-9/x")]
    answer = make_service().post_readings(CLINIC_KEY, body(items))
    assert answer.status == 202
    assert answer.body["accepted"] == 2
    assert [r["index"] for r in answer.body["rejected"]] == [2, 3]
    assert all(r["reason"] for r in answer.body["rejected"])
    assert len(stream.taken) == 2


def test_nothing_valid_is_422_and_nothing_is_published(
    make_service: Make, stream: FakePublisher
) -> None:
    answer = make_service().post_readings(CLINIC_KEY, body([reading_item(glucose=-1)]))
    assert answer.status == 422
    assert answer.body["rejected"][0]["index"] == 0
    assert stream.calls == 0


def test_another_tenants_patients_are_forbidden(make_service: Make, stream: FakePublisher) -> None:
    answer = make_service().post_readings(HOME_KEY, body(batch(3)))  # alice writes clinic-7's
    assert answer.status == 403
    assert [r["index"] for r in answer.body["rejected"]] == [0, 1, 2]
    assert all("may not write" in r["reason"] for r in answer.body["rejected"])
    assert stream.calls == 0


def test_missing_and_wrong_keys_are_401(make_service: Make) -> None:
    service = make_service()
    assert service.post_readings(None, body(batch(1))).body["message"] == "missing x-api-key header"
    assert service.post_readings("guess", body(batch(1))).status == 401


def test_size_limits_are_413(make_service: Make) -> None:
    service = make_service(limits=Limits(max_body_bytes=2048, max_items=3))
    too_big = service.post_readings(CLINIC_KEY, b"[" + b" " * 4096 + b"]")
    assert too_big.status == 413
    assert "2048-byte limit" in too_big.body["message"]
    too_many = service.post_readings(CLINIC_KEY, body(batch(4)))
    assert too_many.status == 413
    assert "limit of 3" in too_many.body["message"]


def test_rate_limit_is_429_with_retry_after(make_service: Make) -> None:
    service = make_service(rate_per_s=0.5, burst=2)
    statuses = [service.post_readings(CLINIC_KEY, body(batch(1))).status for _ in range(3)]
    assert statuses == [202, 202, 429]
    answer = service.post_readings(CLINIC_KEY, body(batch(1)))
    assert answer.headers["Retry-After"] == "2"


def test_bodies_that_are_not_arrays_are_400(make_service: Make) -> None:
    service = make_service()
    for payload, reason in [
        (b"", "empty body"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"a": 1}', "expected an array"),
        (b"[]", "empty array"),
    ]:
        answer = service.post_readings(CLINIC_KEY, payload)
        assert answer.status == 400, payload
        assert reason in answer.body["message"], payload


def test_stream_unavailable_is_503_saying_how_much_got_through(
    make_service: Make, stream: FakePublisher
) -> None:
    stream.fail_after = 100
    service = make_service()
    answer = service.post_readings(CLINIC_KEY, body(batch(288)))
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.body["accepted"] == 0
    assert answer.body["sent_before_failure"] == 100
    assert "100 of 288" in answer.body["message"]
    assert "Retry the whole request" in answer.body["message"]


def test_retrying_a_request_gives_the_same_identities_and_one_stored_copy(
    make_service: Make, stream: FakePublisher, documents: InMemoryDocuments
) -> None:
    service = make_service()
    first = service.post_readings(HOME_KEY, body(batch(5, patient="alice")))
    second = service.post_readings(HOME_KEY, body(batch(5, patient="alice")))
    assert first.body["event_ids"] == second.body["event_ids"]
    # alice is the Nightscout site's patient: her readings are on the read path, once.
    stored = documents.newest(pseudonymise("alice", KEY), "entries", limit=100)
    assert [d.identifier for d in reversed(stored)] == first.body["event_ids"]
    # A clinic's patients are never read through the Nightscout routes: no read-path write.
    service.post_readings(CLINIC_KEY, body(batch(5)))
    assert documents.newest(pseudonymise("clinic-7/patient-0001", KEY), "entries", limit=9) == []


def test_nightscout_upload_then_read_back(make_service: Make, stream: FakePublisher) -> None:
    service = make_service()
    entries = [
        {
            "type": "sgv",
            "sgv": 100 + i,
            "date": NOW_MS - (3 - i) * 300_000,
            "direction": "Flat",
            "device": "xDrip-DexcomG6",
            "noise": 1,
        }
        for i in range(3)
    ]
    posted = service.post_entries(SECRET_HEADER, body(entries))
    assert posted.status == 200
    assert len(posted.body) == 3
    got = service.get_entries(SECRET_HEADER, 2)
    assert got.status == 200
    assert [e["sgv"] for e in got.body] == [102, 101]
    assert got.body[0]["delta"] == 1


def test_nightscout_single_object_and_partial_batches(
    make_service: Make, stream: FakePublisher
) -> None:
    service = make_service()
    single = service.post_entries(SECRET_HEADER, body({"sgv": 120, "date": NOW_MS}))
    assert single.status == 200
    assert len(stream.taken) == 1
    partial = service.post_entries(
        SECRET_HEADER,
        body([{"sgv": 121, "date": NOW_MS - 300_000}, {"sgv": 120, "date": NOW_MS // 1000}]),
    )
    assert partial.status == 200
    assert len(partial.body) == 1
    assert partial.headers["X-Rejected-Count"] == "1"
    assert "seconds" in json.loads(partial.headers["X-Rejected"])[0]["reason"]
    refused = service.post_entries(SECRET_HEADER, body([{"sgv": 120, "date": NOW_MS // 1000}]))
    assert refused.status == 400
    assert "seconds" in refused.body["rejected"][0]["reason"]


def test_nightscout_auth_failures(make_service: Make) -> None:
    service = make_service()
    assert service.post_entries(None, b"[]").body["message"].startswith("missing api-secret")
    assert service.post_entries(hashlib.sha1(b"wrong-secret-123").hexdigest(), b"[]").status == 401
    assert service.post_entries(NIGHTSCOUT_SECRET, b"[]").status == 401  # plain, not hashed
    assert service.get_entries(None, 10).status == 401
    assert service.get_entries("token=abc", 10).status == 401
    assert service.verify_auth(SECRET_HEADER).status == 200
    assert service.get_entries(SECRET_HEADER, 0).status == 400
    assert service.get_entries(SECRET_HEADER, 101).status == 400


def test_the_service_counts_the_readings_it_put_on_the_stream(make_service: Make) -> None:
    service = make_service()
    service.post_readings(CLINIC_KEY, body(batch(5)))
    service.post_readings(CLINIC_KEY, body([reading_item(glucose=-1)]))  # refused: not counted
    assert service.published_readings == 5


def test_nightscout_answers_an_empty_upload_and_an_unproven_verifyauth_as_nightscout_does(
    make_service: Make, stream: FakePublisher
) -> None:
    """An uploader with nothing new may POST ``[]``: Nightscout answers 200 ``[]`` (a 400 made
    clients report an error and retry). ``/api/v1/verifyauth`` without credentials, or with a
    wrong secret, is Nightscout's 200 with ``message: "UNAUTHORIZED"`` and no permission (a
    401 read as a broken server), still nothing readable or writable."""
    service = make_service()
    for answer in (
        service.post_entries(SECRET_HEADER, b"[]"),
        service.post_documents(SECRET_HEADER, "treatments", b"[]"),
        service.post_documents(SECRET_HEADER, "devicestatus", b" [ ] "),
    ):
        assert (answer.status, answer.body) == (200, [])
    assert stream.calls == 0
    assert service.post_entries(None, b"[]").status == 401  # credentials still come first
    assert service.post_readings(CLINIC_KEY, b"[]").status == 400  # GlucoseStream's own API
    for credentials in (None, hashlib.sha1(b"wrong-secret-123").hexdigest()):
        answer = service.verify_auth(credentials)
        assert (answer.status, answer.body["message"]) == (
            200,
            {
                "canRead": False,
                "canWrite": False,
                "isAdmin": False,
                "message": "UNAUTHORIZED",
                "rolefound": "NOTFOUND",
                "permissions": "DEFAULT",
            },
        )
    assert service.verify_auth(SECRET_HEADER).body["message"]["message"] == "OK"


def test_nan_and_infinity_in_the_json_body_are_refused_as_not_finite(
    make_service: Make, stream: FakePublisher
) -> None:
    # Python's JSON parser reads the bare NaN and Infinity some uploaders write.
    items = [reading_item(glucose=101), reading_item(glucose=float("nan"), measured_at=NOW_MS - 1)]
    items.append(reading_item(glucose=float("-inf"), measured_at=NOW_MS - 2))
    payload = json.dumps(items).encode()
    assert b"NaN" in payload
    assert b"-Infinity" in payload
    answer = make_service().post_readings(CLINIC_KEY, payload)
    assert answer.status == 202
    assert answer.body["rejected"] == [
        {"index": 1, "reason": "glucose: Input should be a finite number"},
        {"index": 2, "reason": "glucose: Input should be a finite number"},
    ]
    assert len(stream.taken) == 1


def test_one_request_with_two_glucose_values_for_one_reading_keeps_the_first(
    make_service: Make, stream: FakePublisher
) -> None:
    items = [reading_item(glucose=100), reading_item(glucose=200)]
    answer = make_service().post_readings(CLINIC_KEY, body(items))
    assert answer.status == 202
    assert answer.body["accepted"] == 1
    assert answer.body["rejected"] == [
        {
            "index": 1,
            "reason": "conflicts with item 0: same patient, device and measured_at, other glucose",
        }
    ]
    assert [r.glucose_mg_dl for r in stream.taken] == [100]


def test_the_tenant_prefix_alone_is_no_patient_id(make_service: Make) -> None:
    answer = make_service().post_readings(CLINIC_KEY, body([reading_item(patient_id="clinic-7/")]))
    assert answer.status == 422
    assert answer.body["rejected"] == [
        {"index": 0, "reason": "patient_id 'clinic-7/' is the tenant prefix with no id after it"}
    ]
