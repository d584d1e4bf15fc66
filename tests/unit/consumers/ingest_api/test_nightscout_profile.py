"""Nightscout profiles and foods through the Lambda's resolver, as Loop, AndroidAPS (NSClient v1
and v3) and followers use them: stored as sent (never expiring, never on a stream), read newest
first, the newest as ``current``, replaced by ``_id``, deleted; written by admins only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from consumers.ingest_api.handler import create_app
from glucosestream.ingest.api.auth import NightscoutSecret
from glucosestream.ingest.api.nightscout_auth import NightscoutAuth
from glucosestream.ingest.api.service import IngestService
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.consumers.ingest_api.test_handler import get_event
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS, FakePublisher

SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
HOUR_MS = 3_600_000


def schedule(*values: tuple[str, float]) -> list[dict[str, Any]]:
    return [
        {"time": t, "timeAsSeconds": int(t[:2]) * 3600 + int(t[3:]) * 60, "value": v}
        for t, v in values
    ]


AAPS_PROFILE = {
    # AndroidAPS's ProfileStore as its local profile plugin uploads it (mmol/L).
    "defaultProfile": "LocalProfile0",
    "date": NOW_MS - HOUR_MS,
    "created_at": "2026-01-05T07:00:00.000Z",
    "startDate": "2026-01-05T07:00:00.000Z",
    "units": "mmol",
    "store": {
        "LocalProfile0": {
            "dia": 7.0,
            "carbratio": schedule(("00:00", 9.0), ("11:00", 11.0)),
            "sens": schedule(("00:00", 2.6)),
            "basal": schedule(("00:00", 0.55), ("06:00", 0.7), ("22:00", 0.5)),
            "target_low": schedule(("00:00", 5.5)),
            "target_high": schedule(("00:00", 5.5)),
            "units": "mmol",
            "timezone": "Europe/Berlin",
        }
    },
}
LOOP_PROFILE = {
    # Loop (NightscoutKit's ProfileSet): mills a string, startDate, no created_at, loopSettings.
    "defaultProfile": "Default",
    "enteredBy": "Loop",
    "mills": str(NOW_MS - 100 * 60_000),
    "startDate": "2026-01-05T06:20:00Z",
    "units": "mg/dL",
    "store": {
        "Default": {
            "dia": 6.0,
            "carbs_hr": "0",
            "delay": "0",
            "timezone": "America/Chicago",
            "units": "mg/dL",
            "basal": schedule(("00:00", 0.8), ("05:30", 1.05)),
            "carbratio": schedule(("00:00", 10.0)),
            "sens": schedule(("00:00", 45.0)),
            "target_low": schedule(("00:00", 100.0)),
            "target_high": schedule(("00:00", 110.0)),
        }
    },
    "loopSettings": {
        "dosingEnabled": True,
        "dosingStrategy": "automaticBolus",
        "maximumBasalRatePerHour": 3.0,
        "maximumBolus": 8.0,
        "minimumBGGuard": 75.0,
        "overridePresets": [],
    },
}
OATMEAL = {
    "type": "food",
    "category": "Breakfast",
    "subcategory": "Cereal",
    "name": "Oatmeal",
    "portion": 40,
    "unit": "g",
    "carbs": 24,
    "fat": 3,
    "protein": 5,
    "energy": 600,
    "gi": 2,
}


def quickpick(name: str, position: int, *, hidden: bool = False) -> dict[str, Any]:
    return {
        "type": "quickpick",
        "name": name,
        "foods": [{**OATMEAL, "portions": 1}],
        "carbs": 24,
        "hideafteruse": True,
        "hidden": hidden,
        "position": position,
    }


class Site:
    """The resolver called as a Nightscout client would: the API secret, a token, or a JWT."""

    def __init__(self, service: IngestService) -> None:
        self.service = service
        self.app = create_app(lambda: service)
        self.headers: dict[str, str] = {"api-secret": SECRET}

    def as_token(self, name: str) -> None:
        assert self.service.nightscout_auth is not None
        token = self.service.nightscout_auth.token_for(name)
        issued = self.call("GET", f"/api/v2/authorization/request/{token}")[1]
        self.headers = {"Authorization": f"Bearer {issued['token']}"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
        path, _, raw_query = path.partition("?")
        query = dict(pair.partition("=")[::2] for pair in filter(None, raw_query.split("&")))
        event = get_event(path, query or None, **self.headers)
        event.update(httpMethod=method, body=None if body is None else json.dumps(body))
        response = self.app.resolve(event, None)
        return response["statusCode"], json.loads(response["body"]), response.get("headers", {})


@pytest.fixture
def site(make_service: Callable[..., IngestService]) -> Site:
    service = make_service()
    service.nightscout_auth = NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"),
        {"aaps": ["admin"], "follower": ["readable"], "carer": ["careportal"]},
    )
    return Site(service)


def test_loop_and_androidaps_profiles_are_kept_and_followers_read_the_newest(
    site: Site, treatments_stream: FakePublisher, stream: FakePublisher
) -> None:
    status, stored, _ = site.call("POST", "/api/v1/profile", [LOOP_PROFILE])
    assert status == 200
    (loop,) = stored
    assert (loop["mills"], loop["created_at"]) == (
        NOW_MS - 100 * 60_000,
        "2026-01-05T06:20:00.000Z",
    )
    assert loop["loopSettings"]["maximumBolus"] == 8.0  # kept as sent
    assert len(loop["_id"]) == 24
    status, (aaps,), _ = site.call("POST", "/api/v1/profile.json", AAPS_PROFILE)
    assert (status, aaps["mills"], aaps["srvModified"]) == (200, NOW_MS - HOUR_MS, NOW_MS)

    site.as_token("follower")
    status, profiles, _ = site.call("GET", "/api/v1/profile.json")
    assert status == 200
    assert [p["defaultProfile"] for p in profiles] == ["LocalProfile0", "Default"]
    status, current, _ = site.call("GET", "/api/v1/profile/current")
    assert (status, current["_id"]) == (200, aaps["_id"])
    basal = current["store"][current["defaultProfile"]]["basal"]
    assert [b["value"] for b in basal] == [0.55, 0.7, 0.5]
    assert site.call("GET", "/api/v1/profile?count=1")[1] == [current]
    found = site.call("GET", "/api/v1/profile?find[defaultProfile]=Default")[1]
    assert [p["_id"] for p in found] == [loop["_id"]]
    # Settings, not readings: nothing went to a stream.
    assert (stream.calls, treatments_stream.calls) == (0, 0)


def test_a_resent_profile_is_one_document_and_the_default_count_is_nightscouts(
    site: Site,
) -> None:
    assert site.call("POST", "/api/v1/profile", AAPS_PROFILE)[0] == 200
    assert site.call("POST", "/api/v1/profile", AAPS_PROFILE)[0] == 200
    assert len(site.call("GET", "/api/v1/profile")[1]) == 1
    undated = {key: value for key, value in AAPS_PROFILE.items() if key != "created_at"}
    changes = [{**undated, "date": NOW_MS - k * HOUR_MS, "dia": k} for k in range(2, 14)]
    assert site.call("POST", "/api/v1/profile", changes)[0] == 200
    profiles = site.call("GET", "/api/v1/profile")[1]
    assert len(profiles) == 10  # PROFILES_DEFAULT_COUNT
    assert profiles[0]["date"] == NOW_MS - HOUR_MS


def test_no_profile_is_null_as_in_nightscout(site: Site) -> None:
    assert site.call("GET", "/api/v1/profile/current.json")[:2] == (200, None)
    assert site.call("GET", "/api/v1/profile")[:2] == (200, [])


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"defaultProfile": "Default", "units": "mg/dL"}, "a profile needs a store"),
        ({**LOOP_PROFILE, "store": []}, "a profile needs a store"),
        ({**LOOP_PROFILE, "store": {}}, "a profile needs a store"),
        ({**LOOP_PROFILE, "store": {"Default": 6}}, "store.Default must be an object"),
        ({**LOOP_PROFILE, "defaultProfile": "Night"}, "defaultProfile 'Night' is not a profile"),
        ({**LOOP_PROFILE, "mills": "yesterday"}, "mills must be epoch milliseconds"),
        ({**AAPS_PROFILE, "created_at": "2026-01-05T07:00:00"}, "has no UTC offset"),
        ({**LOOP_PROFILE, "notes": "x" * 20_000}, "document over 16384 bytes"),
        ("profile", "must be a JSON object"),
    ],
)
def test_an_unusable_profile_is_400_with_the_reason_and_nothing_stored(
    site: Site, documents: InMemoryDocuments, document: Any, reason: str
) -> None:
    status, body, _ = site.call("POST", "/api/v1/profile", [document])
    assert status == 400
    assert reason in body["rejected"][0]["reason"]
    assert documents.puts == 0


def test_put_replaces_a_profile_by_id_and_delete_removes_it(site: Site) -> None:
    (stored,) = site.call("POST", "/api/v1/profile", LOOP_PROFILE)[1]
    # Nightscout's profile editor: the whole document again, created_at rewritten on save.
    edited = {**stored, "created_at": "2026-01-05T07:50:00.000Z", "units": "mmol"}
    status, (replaced,), _ = site.call("PUT", "/api/v1/profile", edited)
    assert (status, replaced["_id"], replaced["mills"]) == (200, stored["_id"], NOW_MS - 600_000)
    (only,) = site.call("GET", "/api/v1/profile")[1]
    assert (only["units"], only["srvModified"]) == ("mmol", NOW_MS + 1)  # a later version
    status, body, _ = site.call("PUT", "/api/v1/profile", {**LOOP_PROFILE})
    assert status == 400
    assert "send the _id" in body["message"]

    assert site.call("DELETE", f"/api/v1/profile/{stored['_id']}")[:2] == (200, {"n": 1, "ok": 1})
    assert site.call("GET", "/api/v1/profile/current")[1] is None
    assert site.call("DELETE", f"/api/v1/profile/{stored['_id']}")[1]["n"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/profile", AAPS_PROFILE),
        ("PUT", "/api/v1/profile", {**AAPS_PROFILE, "_id": "0" * 24}),
        ("DELETE", "/api/v1/profile/" + "0" * 24, None),
        ("POST", "/api/v1/food", OATMEAL),
        ("PUT", "/api/v1/food.json", {**OATMEAL, "_id": "0" * 24}),
        ("DELETE", "/api/v1/food/" + "0" * 24, None),
        ("POST", "/api/v3/profile", AAPS_PROFILE),
        ("POST", "/api/v3/food", OATMEAL),
    ],
)
@pytest.mark.parametrize("token", ["follower", "carer"])
def test_only_admins_write_profiles_and_foods(
    site: Site, documents: InMemoryDocuments, token: str, method: str, path: str, body: Any
) -> None:
    """Nightscout's api:profile:create|update|delete and api:food:… are the admin's alone:
    neither a readable nor a careportal token changes the settings a loop doses by."""
    site.as_token(token)
    status, refused, _ = site.call(method, path, body)
    assert status == 403
    assert f"{token} may not" in refused["message"]
    assert documents.puts == 0


def test_a_readable_token_reads_profiles_and_foods(site: Site) -> None:
    site.call("POST", "/api/v1/profile", AAPS_PROFILE)
    site.call("POST", "/api/v1/food", OATMEAL)
    site.as_token("follower")
    assert site.call("GET", "/api/v1/profile/current")[0] == 200
    assert len(site.call("GET", "/api/v1/food.json")[1]) == 1
    site.as_token("carer")  # careportal alone does not read
    assert site.call("GET", "/api/v1/profile")[0] == 403


def test_foods_and_quick_picks_as_the_food_editor_keeps_them(site: Site) -> None:
    foods = [
        OATMEAL,
        quickpick("Toast and jam", 2),
        quickpick("Apple", 1),
        quickpick("Old pick", 0, hidden=True),
    ]
    status, stored, _ = site.call("POST", "/api/v1/food", foods)
    assert status == 200
    assert len({f["_id"] for f in stored}) == 4
    status, every, _ = site.call("GET", "/api/v1/food")
    assert (status, len(every)) == (200, 4)
    picks = site.call("GET", "/api/v1/food/quickpicks")[1]
    assert [p["name"] for p in picks] == ["Apple", "Toast and jam"]
    assert [f["name"] for f in site.call("GET", "/api/v1/food/regular.json")[1]] == ["Oatmeal"]
    oatmeal = stored[0]
    status, _, _ = site.call("PUT", "/api/v1/food", [{**oatmeal, "carbs": 26}])
    assert status == 200
    (again,) = site.call("GET", "/api/v1/food/regular")[1]
    assert again["carbs"] == 26
    assert site.call("DELETE", f"/api/v1/food/{oatmeal['_id']}")[1]["n"] == 1
    assert len(site.call("GET", "/api/v1/food")[1]) == 3


def test_androidaps_v3_profile_sync(site: Site) -> None:
    """NSClient v3 (NightscoutRemoteService): POST v3/profile, then getLastProfile
    (``GET v3/profile?sort$desc=date&limit=1``) answers it and getProfileModifiedSince
    (``history/0``) lists it; a resend is a deduplication; v3/food answers."""
    site.as_token("aaps")
    status, document, _ = site.call("GET", "/api/v3/status")
    assert document["result"]["apiPermissions"]["profile"] == "crud"
    status, created, _ = site.call("POST", "/api/v3/profile", AAPS_PROFILE)
    assert status == 201, created
    status, again, _ = site.call("POST", "/api/v3/profile", AAPS_PROFILE)
    assert (status, again["isDeduplication"]) == (200, True)

    status, last, _ = site.call("GET", "/api/v3/profile?sort$desc=date&limit=1")
    assert status == 200
    (profile,) = last["result"]
    assert (profile["identifier"], profile["date"]) == (created["identifier"], NOW_MS - HOUR_MS)
    assert profile["store"]["LocalProfile0"]["dia"] == 7.0
    status, history, _ = site.call("GET", "/api/v3/profile/history/0")
    assert [p["identifier"] for p in history["result"]] == [created["identifier"]]
    assert history["result"][0]["srvModified"] == NOW_MS
    modified = site.call("GET", "/api/v3/lastModified")[1]["result"]["collections"]
    assert modified == {"profile": NOW_MS}
    assert site.call("GET", "/api/v3/food")[1]["result"] == []
    assert site.call("GET", f"/api/v3/profile/{created['identifier']}")[0] == 200

    no_store = {key: value for key, value in AAPS_PROFILE.items() if key != "store"}
    refused = site.call("POST", "/api/v3/profile", no_store)
    assert refused[0] == 400
    assert "a profile needs a store" in refused[1]["message"]


def test_v1_and_v3_see_each_others_profiles_and_v3_deletes_one(site: Site) -> None:
    (loop,) = site.call("POST", "/api/v1/profile", LOOP_PROFILE)[1]
    site.as_token("aaps")
    (seen,) = site.call("GET", "/api/v3/profile?sort$desc=date&limit=1")[1]["result"]
    assert (seen["identifier"], seen["defaultProfile"]) == (loop["_id"], "Default")
    patched = site.call("PATCH", f"/api/v3/profile/{loop['_id']}", {"units": "mmol"})
    assert patched[0] == 200
    assert site.call("GET", "/api/v1/profile/current")[1]["units"] == "mmol"
    assert site.call("DELETE", f"/api/v3/profile/{loop['_id']}")[0] == 200
    assert site.call("GET", "/api/v1/profile")[1] == []
    history = site.call("GET", "/api/v3/profile/history/0")[1]["result"]
    assert [h.get("isValid", True) for h in history] == [True, True, False]
