"""Request sequences of the apps that speak Nightscout, replayed against the local API over HTTP
(the local stack: kinesalite, moto's DynamoDB), asserting the fields those apps read.

The sequences are modelled on the clients' behaviour (the uploader's entry shape with xDrip+'s
extra fields, AndroidAPS's NSClient v1 status/verifyauth checks and its treatment and
device-status documents, a follower polling with ``find[date][$gt]`` and a read-only token); they
were not replayed from the apps' own network captures. The request lines and fields read from the
apps' source (xDrip+'s NightscoutUploader: PUT treatments, find[uuid], DELETE; AndroidAPS's
NightscoutRemoteService and its v3 models) are tested through the resolver in
``tests/unit/consumers/ingest_api/`` (test_handler.py, test_nightscout_v3.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from glucosestream.ingest.api.auth import NightscoutSecret
from glucosestream.ingest.api.nightscout_auth import NightscoutAuth
from glucosestream.local.apigateway import ApiServer, serve
from glucosestream.settings import Settings
from tests.integration.conftest import free_port
from tests.integration.test_ingest_api import SECRET, SECRET_SHA1, call, ingest_settings

pytestmark = pytest.mark.integration
TOKENS = '{"follower": ["readable"], "aaps": ["admin"]}'
PATIENT = "clinic-7/nightscout-site"


@pytest.fixture(scope="module")
def site(running_stack: Settings) -> Iterator[tuple[ApiServer, NightscoutAuth]]:
    ingest = ingest_settings(nightscout_tokens=TOKENS, nightscout_patient=PATIENT)
    server = serve(running_stack, port=free_port(), ingest=ingest)
    auth = NightscoutAuth.configure(
        NightscoutSecret.configure(SECRET, PATIENT, "clinic-7"), {"follower": ["readable"]}
    )
    try:
        yield server, auth
    finally:
        server.stop()


def now_ms() -> int:
    return int(time.time() * 1000)


def xdrip_entry(date: int, sgv: int, direction: str) -> dict[str, Any]:
    """An entry as xDrip+'s REST uploader sends it (its raw-data fields included)."""
    return {
        "device": "xDrip-DexcomG6",
        "date": date,
        "dateString": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(date / 1000)),
        "sgv": sgv,
        "delta": -4.5,
        "direction": direction,
        "type": "sgv",
        "filtered": sgv * 1000,
        "unfiltered": sgv * 1000 + 300,
        "rssi": 100,
        "noise": 1,
        "sysTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(date / 1000)),
    }


def test_an_xdrip_uploader_then_a_follower_with_a_read_only_token(
    site: tuple[ApiServer, NightscoutAuth],
) -> None:
    server, auth = site
    secret = {"api-secret": SECRET_SHA1}
    start = now_ms() - 20 * 60_000
    # xDrip+: one entry per reading, then its uploader battery as device status.
    for i, (sgv, direction) in enumerate(
        [(131, "Flat"), (126, "FortyFiveDown"), (120, "FortyFiveDown")]
    ):
        status, body, _ = call(
            server,
            "POST",
            "/api/v1/entries",
            [xdrip_entry(start + i * 300_000, sgv, direction)],
            **secret,
        )
        assert status == 200
        assert body[0]["sgv"] == sgv
    status, _, _ = call(
        server,
        "POST",
        "/api/v1/devicestatus",
        {
            "device": "xDrip-DexcomG6",
            "uploaderBattery": 64,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        **secret,
    )
    assert status == 200

    # A follower: status, then the last hours of sgv entries with its token, then only the new.
    token = auth.token_for("follower")
    status, document, _ = call(server, "GET", f"/api/v1/status.json?token={token}")
    assert (document["status"], document["settings"]["units"], document["apiEnabled"]) == (
        "ok",
        "mg/dl",
        True,
    )
    since = start - 60_000
    status, entries, _ = call(
        server, "GET", f"/api/v1/entries/sgv.json?count=288&find[date][$gt]={since}&token={token}"
    )
    assert status == 200
    assert [(e["sgv"], e["direction"], e["delta"]) for e in entries] == [
        (120, "FortyFiveDown", -6),
        (126, "FortyFiveDown", -5),
        (131, "Flat", 0),
    ]
    assert all(isinstance(e["date"], int) and e["dateString"].endswith("Z") for e in entries)
    newest = entries[0]["date"]
    status, nothing_new, _ = call(
        server, "GET", f"/api/v1/entries/sgv.json?count=288&find[date][$gt]={newest}&token={token}"
    )
    assert (status, nothing_new) == (200, [])
    status, (device,), _ = call(server, "GET", f"/api/v1/devicestatus.json?count=1&token={token}")
    assert device["uploaderBattery"] == 64
    # The follower's token is read-only.
    status, _, _ = call(
        server, "POST", f"/api/v1/entries?token={token}", [xdrip_entry(now_ms(), 99, "Flat")]
    )
    assert status == 403


def test_an_androidaps_nsclient_checks_then_uploads_treatments_and_status(
    site: tuple[ApiServer, NightscoutAuth],
) -> None:
    server, _ = site
    secret = {"api-secret": SECRET_SHA1}
    status, document, _ = call(server, "GET", "/api/v1/status.json")
    assert document["careportalEnabled"] is True
    assert document["settings"]["thresholds"]["bgTargetBottom"] == 70
    status, verify, _ = call(server, "GET", "/api/v1/verifyauth", **secret)
    assert (status, verify["message"]["canWrite"], verify["message"]["isAdmin"]) == (
        200,
        True,
        True,
    )
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 600))
    bolus = {
        "eventType": "Correction Bolus",
        "insulin": 1.2,
        "created_at": created,
        "date": now_ms() - 600_000,
        "enteredBy": "AndroidAPS",
        "isValid": True,
        "pumpId": 4102,
        "pumpType": "OMNIPOD_DASH",
        "pumpSerial": "4241",
        "identifier": "f1c4d5e6-9b7a-4c3d-8e2f-1a2b3c4d5e6f",
    }
    carbs = {
        "eventType": "Carb Correction",
        "carbs": 24,
        "created_at": created,
        "enteredBy": "AndroidAPS",
    }
    status, stored, _ = call(server, "POST", "/api/v1/treatments", [bolus, carbs], **secret)
    assert status == 200
    assert stored[0]["_id"] == bolus["identifier"]
    assert call(server, "POST", "/api/v1/treatments", bolus, **secret)[0] == 200  # a resend
    # The loop's status is the newest device status (sent after the xDrip+ uploader's).
    now_created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 2))
    loop_status = {
        "device": "openaps://samsung SM-G970F",
        "created_at": now_created,
        "pump": {"battery": {"percent": 75}, "reservoir": 112.5, "clock": created},
        "openaps": {
            "iob": {"iob": 1.1, "time": created},
            "suggested": {"bg": 118, "eventualBG": 104},
        },
        "uploaderBattery": 54,
    }
    assert call(server, "POST", "/api/v1/devicestatus", loop_status, **secret)[0] == 200
    since = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 3600))
    status, treatments, _ = call(
        server, "GET", f"/api/v1/treatments.json?find[created_at][$gte]={since}", **secret
    )
    assert status == 200
    assert sorted((t["eventType"], t.get("insulin"), t.get("carbs")) for t in treatments) == [
        ("Carb Correction", None, 24),
        ("Correction Bolus", 1.2, None),
    ]
    status, (device,), _ = call(server, "GET", "/api/v1/devicestatus.json?count=1", **secret)
    assert device["openaps"]["suggested"]["eventualBG"] == 104
