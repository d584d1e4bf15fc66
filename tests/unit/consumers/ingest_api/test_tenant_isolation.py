"""Tenant isolation on every route of the API, taken from its own OpenAPI document (a new route
is covered without editing this file): another tenant's key, the Nightscout site's credentials on
the key routes, an API key on the Nightscout routes, or nothing at all never read or write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from consumers.ingest_api.handler import create_app
from glucosestream.ingest.api.service import IngestService
from tests.support.alert_ports import InMemoryStates
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.ingest.support import (
    CLINIC_KEY,
    HOME_KEY,
    NIGHTSCOUT_SECRET,
    NOW_MS,
    FakePublisher,
)

PUBLIC = {("get", "/api/v1/status"), ("get", "/api/v1/status.json"), ("get", "/api/v3/version")}
"""Nightscout's status is public, as in Nightscout."""
ANSWERS_UNAUTHORIZED = {("get", "/api/v1/verifyauth")}
"""Answered 200 with ``message: "UNAUTHORIZED"`` and no permission, as Nightscout answers a
caller without credentials: it serves nothing but that."""
CLINIC_PATIENT = "clinic-7/patient-0001"  # HOME_KEY's tenant (alice) may not manage it


def routes() -> list[tuple[str, str]]:
    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    document = json.loads(app.get_openapi_json_schema())
    return sorted(
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if (method, path) not in PUBLIC
    )


def event(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    concrete = (
        path.replace("{alert_id}", "a" * 32)
        .replace("{token}", "follower-0123456789abcdef")
        .replace("{collection}", "treatments")
        .replace("{since}", "0")
        .replace("{identifier}", "an-id")
    )
    body: Any = {"patient_id": CLINIC_PATIENT, "low_mg_dl": 80}
    if concrete.startswith("/v1/readings"):
        body = [
            {
                "patient_id": CLINIC_PATIENT,
                "device_id": "d",
                "measured_at": NOW_MS,
                "glucose": 100,
                "unit": "mg/dL",
            }
        ]
    elif concrete.startswith("/api/"):
        body = [{"type": "sgv", "sgv": 100, "date": NOW_MS, "eventType": "Note"}]
    query = {"patient_id": CLINIC_PATIENT} if "alert-settings" in concrete else None
    return {
        "resource": "/{proxy+}",
        "path": concrete,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": concrete.lstrip("/")},
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method.upper(), "stage": "t"},
        "body": None if method == "get" else json.dumps(body),
        "isBase64Encoded": False,
    }


CALLERS = {
    "nobody": {},
    "another tenant's key": {"x-api-key": HOME_KEY},
    "the Nightscout secret on a key route": {
        "api-secret": hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
    },
    "an API key on a Nightscout route": {"x-api-key": CLINIC_KEY},
}


def cases() -> list[tuple[str, str, str]]:
    """(caller, method, path) wherever the caller is the wrong one for the route."""
    wrong_for_key_routes = (
        "nobody",
        "another tenant's key",
        "the Nightscout secret on a key route",
    )
    wrong_for_nightscout = ("nobody", "an API key on a Nightscout route")
    return [
        (caller, method, path)
        for method, path in routes()
        for caller in (wrong_for_nightscout if path.startswith("/api/") else wrong_for_key_routes)
    ]


@pytest.mark.parametrize(("caller", "method", "path"), cases())
def test_no_route_serves_a_caller_without_the_right_credentials(
    make_service: Callable[..., IngestService],
    stream: FakePublisher,
    documents: InMemoryDocuments,
    alert_states: InMemoryStates,
    caller: str,
    method: str,
    path: str,
) -> None:
    app = create_app(lambda: make_service())
    response = app.resolve(event(method, path, CALLERS[caller]), None)
    if (method, path) in ANSWERS_UNAUTHORIZED:
        verdict = json.loads(response["body"])["message"]
        assert (response["statusCode"], verdict["message"], verdict["canRead"]) == (
            200,
            "UNAUTHORIZED",
            False,
        )
    else:
        assert response["statusCode"] in (401, 403), (caller, method, path, response["body"])
    assert stream.calls == 0
    assert documents.puts == 0
    assert alert_states.writes == 0


def test_the_route_list_is_not_empty_and_covers_every_family() -> None:
    paths = {path for _, path in routes()}
    assert {"/v1/readings", "/v1/alert-settings", "/v1/alerts/{alert_id}/ack"} <= paths
    assert {"/api/v1/entries", "/api/v1/treatments", "/api/v1/devicestatus"} <= paths
    assert "/api/v2/authorization/request/{token}" in paths
    assert {"/api/v3/{collection}", "/api/v3/{collection}/history/{since}"} <= paths
    assert {
        "/api/v1/profile",
        "/api/v1/profile/current",
        "/api/v1/profile/{identifier}",
        "/api/v1/food",
        "/api/v1/food/quickpicks",
        "/api/v1/food/{identifier}",
    } <= paths
