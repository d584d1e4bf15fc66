"""The ingest Lambda handler: API Gateway proxy events through the Powertools resolver."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from consumers.ingest_api.handler import build_service, create_app, kinesis_publisher
from glucosestream.adapters.kinesis import PutResult
from glucosestream.adapters.producer import Producer
from glucosestream.ingest.api.auth import AuthConfigError
from glucosestream.ingest.api.config import load_ingest_settings
from glucosestream.ingest.api.documents import Document
from glucosestream.ingest.api.service import IngestService, StreamUnavailable
from glucosestream.settings import load_settings
from tests.factories import trace
from tests.unit.ingest.support import FakePublisher

EVENT = Path(__file__).parents[3] / "events" / "apigw_post_readings.json"


def load_event() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EVENT.read_text())
    return loaded


def get_event(path: str, query: dict[str, str] | None = None, **headers: str) -> dict[str, Any]:
    event = load_event()
    event.update(
        path=path,
        httpMethod="GET",
        body=None,
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
    )
    return event


@pytest.fixture
def resolve(
    make_service: Callable[..., IngestService],
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    service = make_service()
    app = create_app(lambda: service)
    return lambda event: app.resolve(event, None)


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_post_readings_event_accepts_one_and_rejects_the_seconds_one(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], stream: FakePublisher
) -> None:
    response = resolve(load_event())
    assert response["statusCode"] == 202
    document = body_of(response)
    assert document["accepted"] == 1
    assert document["rejected"][0]["index"] == 1
    assert "looks like seconds" in document["rejected"][0]["reason"]
    assert stream.taken[0].glucose_mg_dl == round(6.2 * 18.016)


def test_base64_bodies_are_decoded(resolve: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    event = load_event()
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert resolve(event)["statusCode"] == 202


def test_header_names_are_case_insensitive(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    event = load_event()
    event["headers"]["X-API-Key"] = event["headers"].pop("x-api-key")
    event["multiValueHeaders"]["X-API-Key"] = event["multiValueHeaders"].pop("x-api-key")
    assert resolve(event)["statusCode"] == 202


def test_wrong_key_is_401_with_a_reason(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    event = load_event()
    event["headers"]["x-api-key"] = "nope"
    event["multiValueHeaders"]["x-api-key"] = ["nope"]
    response = resolve(event)
    assert response["statusCode"] == 401
    assert body_of(response)["message"] == "unknown API key"


def test_bad_query_is_422_with_a_reason(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    response = resolve(get_event("/api/v1/entries.json", {"count": "ten"}))
    assert response["statusCode"] == 422
    assert "query.count" in body_of(response)["message"]


def test_status_is_public_and_nightscout_shaped(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    response = resolve(get_event("/api/v1/status.json"))
    assert response["statusCode"] == 200
    assert body_of(response)["apiEnabled"] is True


def test_openapi_document_is_generated_from_the_code(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    document = body_of(resolve(get_event("/openapi.json")))
    paths = document["paths"]
    assert {
        "/v1/readings",
        "/api/v1/entries",
        "/api/v1/entries.json",
        "/api/v1/status.json",
    } <= set(paths)
    body = paths["/v1/readings"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert set(body["items"]["required"]) == {
        "patient_id",
        "device_id",
        "measured_at",
        "glucose",
        "unit",
    }
    assert {"202", "401", "413", "429", "503"} <= set(paths["/v1/readings"]["post"]["responses"])
    assert document["components"]["securitySchemes"]["nightscoutSecret"]["name"] == "api-secret"
    assert set(paths["/api/v1/profile"]) == {"get", "post", "put"}
    assert set(paths["/api/v1/food.json"]) == {"get", "post", "put"}
    assert set(paths["/api/v1/profile/{identifier}"]) == {"delete"}
    assert "403" in paths["/api/v1/profile"]["post"]["responses"]  # admin only


class FailingStream:
    """A Kinesis stream that takes the first ``ok`` entries of each call, then is unavailable."""

    def __init__(self, ok: int) -> None:
        self.ok = ok

    def put_batch(self, batch: list[Any]) -> PutResult:
        if self.ok:
            taken, self.ok = min(self.ok, len(batch)), 0
            rest = list(range(taken, len(batch)))
            return PutResult(failed=rest, error_codes=["ServiceUnavailable"] * len(rest))
        raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "PutRecords")


def test_producer_failure_becomes_stream_unavailable_with_the_sent_count() -> None:
    producer = Producer(FailingStream(ok=7), give_up_after_s=0.0, sleep=lambda s: None)  # type: ignore[arg-type]
    publish = kinesis_publisher(producer)
    with pytest.raises(StreamUnavailable) as raised:
        publish(trace(1, 20))
    assert raised.value.sent == 7


def test_short_nightscout_secret_refuses_to_start(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    with pytest.raises(AuthConfigError, match="at least 12"):
        build_service(settings, load_ingest_settings(nightscout_secret="tooshort"))


def test_aws_mode_has_no_development_credentials(tmp_path: Path) -> None:
    settings = load_settings(mode="aws", pseudonym_key="k" * 32, state_dir=tmp_path)
    service = build_service(settings, load_ingest_settings())
    assert service.post_readings("gs-local-development-key", b"[]").status == 401
    assert service.get_entries("x", 1).status == 404
    event = copy.deepcopy(load_event())
    assert event["httpMethod"] == "POST"


def control_event(
    method: str, path: str, document: object | None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """A proxy event as API Gateway sends it for the alert-settings and ack routes."""
    event = get_event(path, query, **{"x-api-key": "clinic-7-uploader-key-7f3a9c"})
    event.update(
        httpMethod=method,
        pathParameters={"proxy": path.lstrip("/")},
        body=None if document is None else json.dumps(document),
    )
    return event


def test_alert_settings_routes_read_and_change_a_patients_settings(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    patient = {"patient_id": "clinic-7/patient-0001"}  # a slash: why it is a query parameter
    changed = resolve(control_event("PATCH", "/v1/alert-settings", {"low_mg_dl": 85}, patient))
    assert changed["statusCode"] == 200
    read = resolve(control_event("GET", "/v1/alert-settings", None, patient))
    assert body_of(read)["settings"]["low_mg_dl"] == 85
    refused = resolve(control_event("PATCH", "/v1/alert-settings", {"low_mg_dl": 40}, patient))
    assert refused["statusCode"] == 400
    assert body_of(refused) == {
        "status": 400,
        "message": "low_mg_dl: 40 is out of range (allowed range 60-100 mg/dL)",
        "field": "low_mg_dl",
    }


def test_the_ack_route_takes_the_alert_id_from_the_path(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    response = resolve(
        control_event("POST", f"/v1/alerts/{'a' * 32}/ack", {"patient_id": "clinic-7/patient-0001"})
    )
    # A well-formed id of no alert of this patient: the route reached the service with it.
    assert response["statusCode"] == 404
    assert "no such alert" in body_of(response)["message"]


def test_entries_routes_pass_find_and_answer_current(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    import hashlib

    from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

    secret = {"api-secret": hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()}
    upload = get_event("/api/v1/entries", None, **secret)
    entries = [
        {"type": "sgv", "sgv": value, "date": NOW_MS - (10 - 5 * i) * 60_000, "device": "xDrip"}
        for i, value in enumerate([112, 104, 95])
    ]
    upload.update(httpMethod="POST", body=json.dumps(entries))
    assert resolve(upload)["statusCode"] == 200
    current = resolve(get_event("/api/v1/entries/current.json", None, **secret))
    assert [(e["sgv"], e["delta"]) for e in body_of(current)] == [(95, -9)]
    query = {"find[date][$gt]": str(NOW_MS - 10 * 60_000), "count": "10"}
    newer = resolve(get_event("/api/v1/entries/sgv.json", query, **secret))
    assert [e["sgv"] for e in body_of(newer)] == [95, 104]
    bad = resolve(get_event("/api/v1/entries.json", {"find[date][$after]": "1"}, **secret))
    assert bad["statusCode"] == 400


def test_current_is_the_newest_sensor_entry_not_a_newer_meter_value(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """As Nightscout's /entries/current (type sgv): a fingerstick after the last sensor
    reading is not what a watchface or follower shows as the current glucose."""
    import hashlib

    from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

    secret = {"api-secret": hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()}
    upload = get_event("/api/v1/entries", None, **secret)
    entries = [
        {"type": "sgv", "sgv": 112, "date": NOW_MS - 10 * 60_000, "device": "xDrip-DexcomG6"},
        {"type": "sgv", "sgv": 104, "date": NOW_MS - 5 * 60_000, "device": "xDrip-DexcomG6"},
        {"type": "mbg", "mbg": 98, "date": NOW_MS - 60_000, "device": "xDrip-Meter"},
    ]
    upload.update(httpMethod="POST", body=json.dumps(entries))
    assert resolve(upload)["statusCode"] == 200
    for path in ("/api/v1/entries/current.json", "/api/v1/entries/current"):
        current = body_of(resolve(get_event(path, None, **secret)))
        assert [(e["type"], e["sgv"], e["delta"]) for e in current] == [("sgv", 104, -8)], path


def test_treatments_and_devicestatus_routes_store_and_answer(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    import hashlib

    from tests.unit.ingest.support import NIGHTSCOUT_SECRET

    secret = {"api-secret": hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()}
    bolus = {"eventType": "Bolus", "insulin": 1.5, "created_at": "2026-01-05T07:58:00Z"}
    for path in ("/api/v1/treatments", "/api/v1/devicestatus.json"):
        posted = get_event(path, None, **secret)
        posted.update(httpMethod="POST", body=json.dumps(bolus))
        assert resolve(posted)["statusCode"] == 200, path
    for path in ("/api/v1/treatments.json", "/api/v1/devicestatus"):
        got = resolve(get_event(path, {"count": "5"}, **secret))
        assert [d["created_at"] for d in body_of(got)] == ["2026-01-05T07:58:00.000Z"], path
    # A query parameter cannot switch the collection read.
    other = resolve(get_event("/api/v1/treatments", {"collection": "entries"}, **secret))
    assert [d["eventType"] for d in body_of(other)] == ["Bolus"]


def test_a_follower_reads_with_a_token_then_with_its_jwt(
    make_service: Callable[..., IngestService],
) -> None:
    from glucosestream.ingest.api.auth import NightscoutSecret
    from glucosestream.ingest.api.nightscout_auth import NightscoutAuth
    from tests.unit.ingest.support import NIGHTSCOUT_SECRET

    service = make_service()
    service.nightscout_auth = NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"), {"follower": ["readable"]}
    )
    app = create_app(lambda: service)
    token = service.nightscout_auth.token_for("follower")
    by_token = app.resolve(get_event("/api/v1/entries.json", {"token": token}), None)
    assert by_token["statusCode"] == 200
    issued = app.resolve(get_event(f"/api/v2/authorization/request/{token}"), None)
    assert issued["statusCode"] == 200
    jwt_token = body_of(issued)["token"]
    by_jwt = app.resolve(
        get_event("/api/v1/entries.json", None, Authorization=f"Bearer {jwt_token}"), None
    )
    assert by_jwt["statusCode"] == 200
    upload = get_event("/api/v1/entries", {"token": token})
    upload.update(httpMethod="POST", body="[]")
    assert app.resolve(upload, None)["statusCode"] == 403  # readable only
    wrong = app.resolve(get_event("/api/v2/authorization/request/follower-0000000000000000"), None)
    assert wrong["statusCode"] == 401


def test_entries_spec_is_a_type_or_an_id_as_nightscout_reads_it(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    import hashlib

    from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

    secret = {"api-secret": hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()}
    upload = get_event("/api/v1/entries", None, **secret)
    entries = [
        {"type": "sgv", "sgv": 112, "date": NOW_MS - 10 * 60_000, "device": "xDrip"},
        {"type": "mbg", "mbg": 108, "date": NOW_MS - 7 * 60_000, "device": "Contour"},
        {"type": "sgv", "sgv": 104, "date": NOW_MS - 5 * 60_000, "device": "xDrip"},
    ]
    upload.update(httpMethod="POST", body=json.dumps(entries))
    posted = body_of(resolve(upload))
    newest_id = posted[-1]["_id"]

    (one,) = body_of(resolve(get_event(f"/api/v1/entries/{newest_id}.json", None, **secret)))
    assert (one["_id"], one["sgv"], one["delta"]) == (newest_id, 104, -8)  # against the sgv
    assert body_of(resolve(get_event("/api/v1/entries/" + "f" * 32, None, **secret))) == []
    meters = body_of(resolve(get_event("/api/v1/entries/mbg.json", None, **secret)))
    assert [(e["type"], e["mbg"]) for e in meters] == [("mbg", 108)]
    current = body_of(resolve(get_event("/api/v1/entries/current", None, **secret)))
    assert [e["_id"] for e in current] == [newest_id]
    unauthenticated = resolve(get_event(f"/api/v1/entries/{newest_id}"))
    assert unauthenticated["statusCode"] == 401


def test_xdrip_treatment_upserts_lookup_and_delete_as_its_uploader_sends_them(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """xDrip+'s NightscoutUploader: every treatment is a PUT of one object whose _id is the
    first 24 hex of its uuid; an edit is another PUT (its time may move); a delete first finds
    the treatment with find[uuid], then DELETEs it by _id (admin: the API secret)."""
    import hashlib

    from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

    secret = {"api-secret": hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()}
    uuid = "5b6f1c2e-8d4a-4b7e-9c3f-2a1b0c9d8e7f"
    treatment = {
        "timestamp": NOW_MS - 600_000,
        "eventType": "<none>",
        "enteredBy": "xdrip",
        "notes": None,
        "uuid": uuid,
        "carbs": 30,
        "insulin": 4.5,
        "created_at": "2026-01-05T07:50:00.000Z",
        "sysTime": "2026-01-05T08:50:00.000+0100",
        "_id": uuid.replace("-", "")[:24],
    }

    def put(document: dict[str, Any]) -> dict[str, Any]:
        event = get_event("/api/v1/treatments", None, **secret)
        event.update(httpMethod="PUT", body=json.dumps(document))
        return resolve(event)

    assert put(treatment)["statusCode"] == 200
    edited = {**treatment, "carbs": 35, "created_at": "2026-01-05T07:55:00.000Z"}
    assert put(edited)["statusCode"] == 200
    stored = body_of(resolve(get_event("/api/v1/treatments.json", None, **secret)))
    assert [(t["_id"], t["carbs"]) for t in stored] == [(treatment["_id"], 35)]  # one, edited

    (found,) = body_of(
        resolve(get_event("/api/v1/treatments.json", {"find[uuid]": uuid}, **secret))
    )
    assert len(found["_id"]) == 24  # xDrip+ deletes only a 24-character _id
    delete = get_event(f"/api/v1/treatments/{found['_id']}", None, **secret)
    delete.update(httpMethod="DELETE")
    assert body_of(resolve(delete)) == {"n": 1, "ok": 1}
    assert body_of(resolve(get_event("/api/v1/treatments.json", None, **secret))) == []
    assert body_of(resolve(delete)) == {"n": 0, "ok": 1}  # a retried delete is harmless


def test_deleting_a_treatment_needs_admin(
    make_service: Callable[..., IngestService],
) -> None:
    from glucosestream.ingest.api.auth import NightscoutSecret
    from glucosestream.ingest.api.nightscout_auth import Credentials, NightscoutAuth
    from tests.unit.ingest.support import NIGHTSCOUT_SECRET

    service = make_service()
    service.nightscout_auth = NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"), {"carer": ["careportal"]}
    )
    answer = service.delete_treatment(
        Credentials(token=service.nightscout_auth.token_for("carer")), "a" * 24
    )
    assert answer.status == 403


def test_a_treatment_older_than_5000_newer_ones_is_deleted(
    make_service: Callable[..., IngestService],
) -> None:
    """Loop uploads ~300 treatments a day: the newest 5,000 are ~16 days. A delete finds the
    treatment by its identifier whatever its age (it answered n: 0 and deleted nothing)."""
    from glucosestream.ingest.api.documents import Document
    from glucosestream.ingest.api.nightscout_auth import Credentials
    from tests.unit.ingest.support import NIGHTSCOUT_API_SECRET, NOW_MS, site_patient

    service = make_service()
    secret = Credentials(api_secret=NIGHTSCOUT_API_SECRET)
    patient = site_patient(service)

    def stored(date_ms: int, identifier: str, **fields: float) -> Document:
        return Document(date_ms, identifier, {"_id": identifier, "date": date_ms, **fields})

    oldest = stored(NOW_MS - 30 * 86_400_000, "a" * 24, carbs=20)
    newer = [stored(NOW_MS - k * 300_000, f"{k:024x}", insulin=0.1) for k in range(1, 5_002)]
    service.documents.put(patient, "treatments", [oldest, *newer])
    answer = service.delete_treatment(secret, "a" * 24)
    assert answer.body == {"n": 1, "ok": 1}
    assert service.documents.with_identifiers(patient, "treatments", ["a" * 24]) == []
    assert len(service.documents.newest(patient, "treatments", limit=6_000)) == 5_001


def _entry(date_ms: int, identifier: str, kind: str, value: int) -> Document:
    """A stored Nightscout entry (a sensor ``sgv`` or a meter ``mbg``)."""
    body = {"_id": identifier, "date": date_ms, "type": kind, kind: value}
    return Document(date_ms, identifier, body)


def test_an_entry_older_than_5000_newer_ones_is_found_by_id_with_its_delta(
    make_service: Callable[..., IngestService],
) -> None:
    """1-minute sensors pass 5,000 entries in ~3.5 days; an entry is found by its id whatever
    its age, its delta against the next older sgv (a meter reading between is skipped)."""
    from glucosestream.ingest.api.nightscout_auth import Credentials
    from tests.unit.ingest.support import NIGHTSCOUT_API_SECRET, NOW_MS, site_patient

    service = make_service()
    secret = Credentials(api_secret=NIGHTSCOUT_API_SECRET)
    patient = site_patient(service)

    old = NOW_MS - 5 * 86_400_000
    history = [
        _entry(old - 120_000, "b" * 24, "sgv", 100),
        _entry(old - 60_000, "c" * 24, "mbg", 90),
        _entry(old, "a" * 24, "sgv", 112),
    ]
    newer = [_entry(NOW_MS - k * 60_000, f"{k:024x}", "sgv", 120) for k in range(1, 5_002)]
    service.documents.put(patient, "entries", [*history, *newer])
    answer = service.get_entry(secret, "a" * 24, 10)
    assert answer.status == 200
    (found,) = answer.body
    assert (found["_id"], found["sgv"], found["delta"]) == ("a" * 24, 112, 12)
    assert service.get_entry(secret, "d" * 24, 10).body == []


def test_an_entry_found_by_id_takes_its_delta_past_many_meter_readings(
    make_service: Callable[..., IngestService],
) -> None:
    """The sgv before the entry is looked for in pages growing from a few entries: past 100
    meter readings it is still found (and an entry with no sgv before it has delta 0)."""
    from glucosestream.ingest.api.nightscout_auth import Credentials
    from tests.unit.ingest.support import NIGHTSCOUT_API_SECRET, NOW_MS, site_patient

    service = make_service()
    secret = Credentials(api_secret=NIGHTSCOUT_API_SECRET)
    patient = site_patient(service)

    meters = [_entry(NOW_MS - k * 60_000, f"{k:024x}", "mbg", 90) for k in range(1, 101)]
    history = [
        _entry(NOW_MS - 200 * 60_000, "b" * 24, "sgv", 100),
        *meters,
        _entry(NOW_MS, "a" * 24, "sgv", 112),
    ]
    service.documents.put(patient, "entries", history)
    (found,) = service.get_entry(secret, "a" * 24, 10).body
    assert (found["_id"], found["delta"]) == ("a" * 24, 12)
    (first,) = service.get_entry(secret, "b" * 24, 10).body
    assert (first["_id"], first["delta"]) == ("b" * 24, 0)


def test_a_known_route_under_another_method_is_405_with_allow_in_the_api_error_shape(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    response = resolve(control_event("GET", f"/v1/alerts/{'a' * 32}/ack", None))
    assert response["statusCode"] == 405
    assert body_of(response) == {
        "status": 405,
        "message": f"GET is not allowed on /v1/alerts/{'a' * 32}/ack: use POST",
    }
    assert response["multiValueHeaders"]["Allow"] == ["POST"]


def test_an_unknown_path_is_404_in_the_api_error_shape(
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    response = resolve(control_event("GET", "/v1/alert", None))
    assert response["statusCode"] == 404
    assert body_of(response) == {"status": 404, "message": "no route /v1/alert"}


def test_post_readings_accepts_the_unit_in_lower_case(
    resolve: Callable[[dict[str, Any]], dict[str, Any]], stream: FakePublisher
) -> None:
    event = load_event()
    items = json.loads(event["body"])
    items[0]["unit"] = "mmol/l"  # as the CLI's --units takes it
    event["body"] = json.dumps(items)
    document = body_of(resolve(event))
    assert document["accepted"] == 1
    assert [r["index"] for r in document["rejected"]] == [1]  # the seconds one, as before
    assert stream.taken[0].glucose_mg_dl == round(6.2 * 18.016)
