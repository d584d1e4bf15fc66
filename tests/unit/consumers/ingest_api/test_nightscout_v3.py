"""Nightscout API v3 through the Lambda's resolver, in the order AndroidAPS's NSClient v3 uses
it: a JWT for its token, status, lastModified, creates (deduplicated on resend), history since
the last sync, reads and searches; and what it refuses. The last test replays the request lines
of AndroidAPS's own Retrofit interface and checks the fields its models require."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from consumers.ingest_api.handler import create_app
from glucosestream.ingest.api.auth import NightscoutSecret
from glucosestream.ingest.api.nightscout_auth import NightscoutAuth
from glucosestream.ingest.api.service import IngestService
from tests.unit.consumers.ingest_api.test_handler import get_event
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS, FakePublisher

BOLUS = {
    "eventType": "Correction Bolus",
    "insulin": 0.8,
    "date": NOW_MS - 300_000,
    "utcOffset": 60,
    "app": "AAPS",
    "device": "Samsung SM-G970F",
    "identifier": "8a3f4c1e-2d5b-4e6f-9a7b-0c1d2e3f4a5b",
    "isValid": True,
    "pumpId": 7781,
    "pumpType": "OMNIPOD_DASH",
    "pumpSerial": "4241",
}
SGV = {"type": "sgv", "sgv": 141, "date": NOW_MS - 60_000, "direction": "Flat", "device": "AAPS"}


class Client:
    """The resolver called as an HTTP client would, with a Bearer JWT once it has one."""

    def __init__(self, service: IngestService) -> None:
        self.app = create_app(lambda: service)
        self.jwt: str | None = None

    def call(self, method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
        path, _, raw_query = path.partition("?")
        for pair in filter(None, raw_query.split("&")):
            key, _, value = pair.partition("=")
            query[key] = value
        headers = {"Authorization": f"Bearer {self.jwt}"} if self.jwt else {}
        event = get_event(path, query or None, **headers)
        event.update(httpMethod=method, body=None if body is None else json.dumps(body))
        response = self.app.resolve(event, None)
        return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def nightscout(make_service: Callable[..., IngestService]) -> tuple[Client, NightscoutAuth]:
    service = make_service()
    service.nightscout_auth = NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"),
        {"aaps": ["admin"], "follower": ["readable"]},
    )
    return Client(service), service.nightscout_auth


def assert_replaced(status: int, again: dict[str, Any], created: dict[str, Any]) -> None:
    """A create that Nightscout deduplicates: 200, the stored identifier, a later version."""
    assert (status, again["isDeduplication"], again["identifier"]) == (
        200,
        True,
        created["identifier"],
    )
    assert again["lastModified"] > created["lastModified"]


def test_an_nsclient_v3_session(
    nightscout: tuple[Client, NightscoutAuth], stream: FakePublisher
) -> None:
    client, auth = nightscout
    status, issued = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")
    assert status == 200
    client.jwt = issued["token"]

    status, document = client.call("GET", "/api/v3/status")
    assert status == 200
    assert document["result"]["apiPermissions"]["treatments"] == "crud"  # admin
    assert client.call("GET", "/api/v3/lastModified")[1]["result"]["collections"] == {}

    status, created = client.call("POST", "/api/v3/treatments", BOLUS)
    assert (status, created["identifier"]) == (201, BOLUS["identifier"])
    status, again = client.call("POST", "/api/v3/treatments", BOLUS)
    assert (status, again["isDeduplication"]) == (200, True)
    status, _ = client.call("POST", "/api/v3/entries", SGV)
    assert status == 201
    assert [r.glucose_mg_dl for r in stream.taken] == [141]  # the reading is on the stream
    assert client.call("POST", "/api/v3/entries", SGV)[1]["isDeduplication"] is True
    assert len(stream.taken) == 1
    device = {"device": "openaps://Samsung", "date": NOW_MS, "uploaderBattery": 55}
    assert client.call("POST", "/api/v3/devicestatus", device)[0] == 201

    status, modified = client.call("GET", "/api/v3/lastModified")
    assert set(modified["result"]["collections"]) == {"entries", "treatments", "devicestatus"}
    status, history = client.call("GET", "/api/v3/treatments/history/0")
    assert [t["identifier"] for t in history["result"]] == [BOLUS["identifier"]]
    synced = modified["result"]["collections"]["treatments"]
    assert client.call("GET", f"/api/v3/treatments/history/{synced}")[1]["result"] == []

    status, one = client.call("GET", f"/api/v3/treatments/{BOLUS['identifier']}")
    assert (status, one["result"]["insulin"], one["result"]["pumpId"]) == (200, 0.8, 7781)
    status, searched = client.call("GET", "/api/v3/entries?limit=1&sort$desc=date")
    (newest,) = searched["result"]
    assert newest["sgv"] == 141
    found = client.call("GET", f"/api/v3/entries?date$gt={NOW_MS - 120_000}&sgv$gte=140")
    assert [e["sgv"] for e in found[1]["result"]] == [141]


def test_v1_uploads_show_in_v3_history(nightscout: tuple[Client, NightscoutAuth]) -> None:
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    carbs = {"eventType": "Carb Correction", "carbs": 15, "date": NOW_MS - 60_000}
    assert client.call("POST", "/api/v1/treatments", carbs)[0] == 200
    (seen,) = client.call("GET", "/api/v3/treatments/history/0")[1]["result"]
    assert (seen["carbs"], seen["srvModified"]) == (15, NOW_MS)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/api/v3/settings", None, 404, "no collection settings"),
        ("GET", "/api/v3/treatments/history/yesterday", None, 400, "epoch milliseconds"),
        ("GET", "/api/v3/treatments/history/0?limit=5000", None, 400, "limit must be within"),
        ("GET", "/api/v3/entries?sgv$like=1", None, 400, "unknown operator like"),
        ("GET", "/api/v3/entries?sort=sgv", None, 400, "sort by time only"),
        ("GET", "/api/v3/treatments/missing-id", None, 404, "no treatments document"),
        ("POST", "/api/v3/treatments", {**BOLUS, "insulin": 500}, 400, "insulin 500"),
        ("POST", "/api/v3/entries", {**SGV, "date": 1_767_599_940}, 400, "seconds"),
        ("POST", "/api/v3/treatments", [BOLUS], 400, "expected an object"),
    ],
)
def test_v3_refusals(
    nightscout: tuple[Client, NightscoutAuth],
    method: str,
    path: str,
    body: Any,
    status: int,
    message: str,
) -> None:
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    got, document = client.call(method, path, body)
    assert got == status, document
    assert message in document["message"]


def test_a_readable_token_reads_but_cannot_create(
    nightscout: tuple[Client, NightscoutAuth],
) -> None:
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('follower')}")[
        1
    ]["token"]
    assert client.call("GET", "/api/v3/status")[1]["result"]["apiPermissions"]["entries"] == "r"
    assert client.call("GET", "/api/v3/treatments")[0] == 200
    assert client.call("POST", "/api/v3/treatments", BOLUS)[0] == 403
    client.jwt = None
    assert client.call("GET", "/api/v3/treatments")[0] == 401
    assert client.call("GET", "/api/v3/version")[0] == 200  # public, as in Nightscout


def test_androidaps_request_lines_and_the_fields_its_models_require(
    nightscout: tuple[Client, NightscoutAuth],
) -> None:
    """The request lines of AndroidAPS's NSClient v3 as its Retrofit interface declares them
    (core/nssdk networking/NightscoutRemoteService.kt), and the fields its kotlinx models need:
    RemoteStatusResponse has no defaults (every apiPermissions collection must be there, or the
    status does not decode and the client never connects); RemoteCreateUpdateResponse;
    RemoteEntry's identifier, date, sgv and srvModified (the history cursor)."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    status, document = client.call("GET", "/api/v3/status")
    remote_status = document["result"]
    assert status == 200
    assert {"version", "apiVersion", "srvDate", "storage", "apiPermissions"} <= set(remote_status)
    assert {"storage", "version"} <= set(remote_status["storage"])
    permissions = remote_status["apiPermissions"]
    assert set(permissions) == {
        "devicestatus",
        "entries",
        "food",
        "profile",
        "settings",
        "treatments",
    }
    assert (permissions["entries"], permissions["profile"], permissions["food"]) == (
        "cr",
        "crud",
        "crud",
    )
    assert permissions["settings"] == ""  # not kept

    status, created = client.call("POST", "/api/v3/entries", SGV)
    assert status == 201
    assert {"identifier", "lastModified"} <= set(created)
    meter = {"type": "mbg", "mbg": 150, "date": NOW_MS - 30_000, "device": "AAPS"}
    assert client.call("POST", "/api/v3/entries", meter)[0] == 201
    status, treated = client.call("POST", "/api/v3/treatments", BOLUS)
    assert (status, treated["identifier"]) == (201, BOLUS["identifier"])
    device_status = {"device": "openaps://Samsung", "date": NOW_MS, "uploaderBattery": 55}
    assert client.call("POST", "/api/v3/devicestatus", device_status)[0] == 201

    # getSgvs(): no limit, newest first, sgv only.
    status, sgvs = client.call("GET", "/api/v3/entries?sort$desc=date&type=sgv")
    assert status == 200
    assert [(e["type"], e["sgv"]) for e in sgvs["result"]] == [("sgv", 141)]
    (entry,) = sgvs["result"]
    assert {"identifier", "date", "sgv", "srvModified"} <= set(entry)
    # getSgvsNewerThan(date, limit): oldest first after the date.
    newer = client.call("GET", f"/api/v3/entries?sort=date&date$gt={NOW_MS - 120_000}&limit=250")
    assert [e["date"] for e in newer[1]["result"]] == [NOW_MS - 60_000, NOW_MS - 30_000]
    # getSgvsModifiedSince / getTreatmentsModifiedSince / getDeviceStatusModifiedSince.
    assert len(client.call("GET", "/api/v3/entries/history/0?limit=250")[1]["result"]) == 2
    history = client.call("GET", "/api/v3/treatments/history/0?limit=250")[1]["result"]
    assert [t["identifier"] for t in history] == [BOLUS["identifier"]]
    assert len(client.call("GET", "/api/v3/devicestatus/history/0")[1]["result"]) == 1
    # getTreatmentsNewerThan(createdAt, limit): sorted by created_at, an ISO bound.
    since = "2026-01-05T07:00:00.000Z"
    status, treatments = client.call(
        "GET", f"/api/v3/treatments?sort=created_at&created_at$gt={since}&limit=250"
    )
    assert status == 200, treatments
    assert [t["identifier"] for t in treatments["result"]] == [BOLUS["identifier"]]


def test_androidaps_v3_creates_an_entry_with_a_triple_arrow(
    nightscout: tuple[Client, NightscoutAuth], stream: FakePublisher
) -> None:
    """NSClient v3 uploads AndroidAPS's TripleUp as sent: the reading is kept (201), its trend
    the contract's DOUBLE_UP, and search answers it as DoubleUp."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    rising = {**SGV, "sgv": 250, "direction": "TripleUp", "device": "AndroidAPS-Medtrum"}
    status, created = client.call("POST", "/api/v3/entries", rising)
    assert status == 201, created
    assert [r.trend.value for r in stream.taken] == ["DOUBLE_UP"]
    (entry,) = client.call("GET", "/api/v3/entries?type=sgv")[1]["result"]
    assert (entry["identifier"], entry["direction"]) == (created["identifier"], "DoubleUp")


def test_androidaps_updates_and_deletes_a_treatment(
    nightscout: tuple[Client, NightscoutAuth],
) -> None:
    """updateTreatment (PATCH with the whole treatment, identity unchanged) and deleteTreatment
    (DELETE): the sync cursor moves, history shows each version, the deleted one isValid:false."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    identifier = BOLUS["identifier"]
    assert client.call("POST", "/api/v3/treatments", BOLUS)[0] == 201
    status, patched = client.call(
        "PATCH", f"/api/v3/treatments/{identifier}", {**BOLUS, "insulin": 1.2, "notes": "SMB"}
    )
    assert (status, patched["identifier"]) == (200, identifier)
    read = client.call("GET", f"/api/v3/treatments/{identifier}")[1]["result"]
    assert (read["insulin"], read["notes"], read["srvModified"]) == (
        1.2,
        "SMB",
        patched["lastModified"],
    )

    moved = client.call("PATCH", f"/api/v3/treatments/{identifier}", {"date": NOW_MS})
    assert moved[0] == 400
    assert "date cannot be changed" in moved[1]["message"]
    too_much = client.call("PATCH", f"/api/v3/treatments/{identifier}", {"insulin": 250})
    assert too_much[0] == 400

    status, deleted = client.call("DELETE", f"/api/v3/treatments/{identifier}")
    assert status == 200
    assert deleted["lastModified"] > patched["lastModified"]
    assert client.call("GET", f"/api/v3/treatments/{identifier}")[0] == 404
    assert client.call("GET", "/api/v3/treatments")[1]["result"] == []
    history = client.call("GET", "/api/v3/treatments/history/0")[1]["result"]
    assert [(h["insulin"], h["isValid"]) for h in history] == [
        (0.8, True),
        (1.2, True),
        (1.2, False),
    ]
    assert client.call("DELETE", f"/api/v3/treatments/{identifier}")[0] == 404


def test_only_admins_change_treatments_and_readings_never_change(
    nightscout: tuple[Client, NightscoutAuth],
) -> None:
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    assert client.call("POST", "/api/v3/treatments", BOLUS)[0] == 201
    created = client.call("POST", "/api/v3/entries", SGV)[1]
    refused = client.call("DELETE", f"/api/v3/entries/{created['identifier']}")
    assert refused[0] == 422
    assert "lake's record" in refused[1]["message"]
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('follower')}")[
        1
    ]["token"]
    assert client.call("DELETE", f"/api/v3/treatments/{BOLUS['identifier']}")[0] == 403
    assert (
        client.call("PATCH", f"/api/v3/treatments/{BOLUS['identifier']}", {"notes": "x"})[0] == 403
    )


def test_androidaps_reads_and_updates_a_treatment_behind_100000_newer_ones(
    make_service: Callable[..., IngestService], documents: Any
) -> None:
    """A year of SMBs is ~100,000 treatments: a read or an update by identifier finds the
    treatment whatever its age (it read the newest 100,000 and answered 404)."""
    from glucosestream.ingest.api.documents import Document
    from tests.unit.ingest.support import site_patient

    service = make_service()
    service.nightscout_auth = NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"), {"aaps": ["admin"]}
    )
    client = Client(service)
    client.jwt = client.call(
        "GET", f"/api/v2/authorization/request/{service.nightscout_auth.token_for('aaps')}"
    )[1]["token"]
    patient = site_patient(service)
    old_ms = NOW_MS - 400 * 86_400_000

    def stored(date_ms: int, body: dict[str, Any]) -> Document:
        identity = {"_id": body["identifier"], "srvCreated": date_ms, "srvModified": date_ms}
        return Document(date_ms, body["identifier"], {**body, **identity, "date": date_ms}, date_ms)

    smbs = [
        stored(NOW_MS - k * 300_000, {**BOLUS, "identifier": f"smb-{k}", "insulin": 0.1})
        for k in range(1, 100_002)
    ]
    documents.put(patient, "treatments", [stored(old_ms, BOLUS), *smbs])
    identifier = BOLUS["identifier"]
    status, read = client.call("GET", f"/api/v3/treatments/{identifier}")
    assert (status, read["result"]["date"]) == (200, old_ms)
    status, _ = client.call("PATCH", f"/api/v3/treatments/{identifier}", {"notes": "late"})
    assert status == 200
    (patched,) = documents.with_identifiers(patient, "treatments", [identifier])
    assert (patched.date_ms, patched.body["notes"]) == (old_ms, "late")


def test_a_v3_treatment_resent_with_other_carbs_replaces_the_stored_one(
    nightscout: tuple[Client, NightscoutAuth], treatments_stream: FakePublisher
) -> None:
    """A client creating a treatment without an identifier gets Nightscout's calculated one
    (UUID v5 of device, date and eventType); its resend with carbs 20 → 25 is the same
    treatment: 200 isDeduplication, the stored one replaced (a read answers 25), and the lake
    gets a new version of that treatment, not a second one. An identical resend changes
    nothing."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    carbs = {
        "eventType": "Carb Correction",
        "carbs": 20,
        "date": 1_767_599_700_000,
        "device": "Samsung SM-G970F",
        "app": "AAPS",
    }
    status, created = client.call("POST", "/api/v3/treatments", carbs)
    # Nightscout's own calculateIdentifier gives this for the device, date and event type.
    assert (status, created["identifier"]) == (201, "ef6ba9fe-a902-54b1-b6ad-646765a1be94")
    status, again = client.call("POST", "/api/v3/treatments", {**carbs, "carbs": 25})
    assert_replaced(status, again, created)
    read = client.call("GET", f"/api/v3/treatments/{created['identifier']}")[1]["result"]
    assert (read["carbs"], read["srvCreated"]) == (25, created["lastModified"])
    assert [t["carbs"] for t in client.call("GET", "/api/v3/treatments")[1]["result"]] == [25]
    assert [(v.treatment_id, v.carbs_g) for v in treatments_stream.taken] == [
        (created["identifier"], 20.0),
        (created["identifier"], 25.0),
    ]
    assert treatments_stream.taken[1].modified_at > treatments_stream.taken[0].modified_at
    status, retried = client.call("POST", "/api/v3/treatments", {**carbs, "carbs": 25})
    assert (status, retried["lastModified"]) == (200, again["lastModified"])
    assert len(treatments_stream.taken) == 2


def test_a_v3_create_replaces_the_same_treatment_uploaded_through_v1(
    nightscout: tuple[Client, NightscoutAuth], treatments_stream: FakePublisher
) -> None:
    """Nightscout's fallback deduplication: a treatment stored through v1 (no identifier) at the
    same created_at with the same eventType is the one a v3 create without identifier resends."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    carbs = {"eventType": "Carb Correction", "carbs": 15, "date": NOW_MS - 60_000}
    (stored,) = client.call("POST", "/api/v1/treatments", carbs)[1]
    status, again = client.call("POST", "/api/v3/treatments", {**carbs, "carbs": 18})
    assert (status, again["identifier"]) == (200, stored["_id"])
    (only,) = client.call("GET", "/api/v1/treatments")[1]
    assert (only["_id"], only["carbs"]) == (stored["_id"], 18)
    assert {v.treatment_id for v in treatments_stream.taken} == {stored["_id"]}


def test_a_v3_device_status_resent_for_the_same_moment_replaces_the_stored_one(
    nightscout: tuple[Client, NightscoutAuth],
) -> None:
    """Nightscout v3 identifies a device status sent without identifier by device and date."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    status = {"device": "openaps://Samsung SM-G970F", "date": NOW_MS, "uploaderBattery": 55}
    assert client.call("POST", "/api/v3/devicestatus", status)[0] == 201
    resent = client.call("POST", "/api/v3/devicestatus", {**status, "uploaderBattery": 54})
    assert (resent[0], resent[1]["isDeduplication"]) == (200, True)
    found = client.call("GET", "/api/v3/devicestatus")[1]["result"]
    assert [s["uploaderBattery"] for s in found] == [54]


def test_a_v3_entry_resent_with_another_value_replaces_the_stored_one(
    nightscout: tuple[Client, NightscoutAuth], stream: FakePublisher
) -> None:
    """AndroidAPS resends a reading of its CGM, now 152 where it said 150 (a backfill
    recalibrated it): same identity (device, date), so 200 isDeduplication, but the new value
    is kept, as Nightscout replaces the stored document, and reaches the stream as v1's resend
    does (the lake's rule for two copies of one identity then applies). An identical resend
    changes nothing."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    sgv = {"type": "sgv", "sgv": 150, "date": NOW_MS - 60_000, "device": "AndroidAPS-DexcomG6"}
    status, created = client.call("POST", "/api/v3/entries", sgv)
    assert status == 201
    status, again = client.call("POST", "/api/v3/entries", {**sgv, "sgv": 152})
    assert_replaced(status, again, created)
    (entry,) = client.call("GET", "/api/v3/entries")[1]["result"]
    assert entry["sgv"] == 152
    assert client.call("GET", f"/api/v3/entries/{created['identifier']}")[1]["result"]["sgv"] == 152
    assert [e["sgv"] for e in client.call("GET", "/api/v1/entries.json")[1]] == [152]
    history = client.call("GET", f"/api/v3/entries/history/{created['lastModified']}")[1]
    assert [e["sgv"] for e in history["result"]] == [152]  # a syncing client gets the new value
    assert [r.glucose_mg_dl for r in stream.taken] == [150, 152]
    assert client.call("POST", "/api/v3/entries", {**sgv, "sgv": 152})[1]["isDeduplication"]
    assert len(stream.taken) == 2


def test_a_v3_entry_xdrip_already_uploaded_is_not_a_second_reading(
    nightscout: tuple[Client, NightscoutAuth], stream: FakePublisher
) -> None:
    """xDrip+ uploaded the reading through v1; AndroidAPS creates it through v3 under its own
    device: the entry xDrip+ stored is the one (200 isDeduplication with its identifier), and
    nothing reaches the stream again."""
    client, auth = nightscout
    client.jwt = client.call("GET", f"/api/v2/authorization/request/{auth.token_for('aaps')}")[1][
        "token"
    ]
    sgv = {"type": "sgv", "sgv": 150, "date": NOW_MS - 60_000, "direction": "Flat"}
    (stored,) = client.call("POST", "/api/v1/entries", {**sgv, "device": "xDrip-DexcomG6"})[1]
    status, created = client.call("POST", "/api/v3/entries", {**sgv, "device": "AndroidAPS-G6"})
    assert (status, created["isDeduplication"], created["identifier"]) == (
        200,
        True,
        stored["_id"],
    )
    assert len(stream.taken) == 1
    assert [e["device"] for e in client.call("GET", "/api/v3/entries")[1]["result"]] == [
        "xDrip-DexcomG6"
    ]
