"""The local WSGI adapter: HTTP ↔ API Gateway proxy events, and the demo's start_api."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consumers.ingest_api.handler import build_service
from glucosestream.elt.refresh import run_elt
from glucosestream.ingest.api.config import LOCAL_NIGHTSCOUT_SECRET, load_ingest_settings
from glucosestream.ingest.api.service import IngestService
from glucosestream.local.apigateway import ProxyAdapter, proxy_event, serve, start_api
from glucosestream.local.lake import local_lake
from glucosestream.local.processes import free_port
from glucosestream.settings import load_settings
from tests.component.elt.rawdata import MINUTE_MS, Raw, ms, write_raw
from tests.unit.ingest.support import CLINIC_KEY, FakePublisher, reading_item


def test_proxy_event_carries_method_path_headers_query_and_body() -> None:
    environ = {
        "REQUEST_METHOD": "get",
        "PATH_INFO": "/api/v1/entries.json",
        "QUERY_STRING": "count=3&find[type]=sgv",
        "HTTP_API_SECRET": "abc",
        "CONTENT_TYPE": "application/json",
    }
    event = proxy_event(environ, b"\xff\x00")
    assert event["httpMethod"] == "GET"
    assert event["headers"]["api-secret"] == "abc"
    assert event["queryStringParameters"] == {"count": "3", "find[type]": "sgv"}
    assert event["isBase64Encoded"] is True  # not UTF-8: passed as base64, like API Gateway


def test_adapter_answers_413_from_content_length_without_calling_the_handler() -> None:
    called: list[dict[str, Any]] = []
    adapter = ProxyAdapter(lambda event, context: called.append(event) or {}, max_body_bytes=10)
    statuses: list[str] = []
    body = adapter(
        {"CONTENT_LENGTH": "11", "wsgi.input": io.BytesIO(b"x" * 11)},
        lambda status, headers: statuses.append(status),
    )
    assert statuses == ["413 Request Entity Too Large"]
    assert "10-byte limit" in json.loads(b"".join(body))["message"]
    assert called == []


def test_served_on_loopback_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        serve(load_settings(state_dir=tmp_path), host="0.0.0.0", port=0)


def test_serves_the_resolver_and_stops(
    tmp_path: Path, make_service: Callable[..., IngestService], stream: FakePublisher
) -> None:
    server = serve(load_settings(state_dir=tmp_path), port=0, service=make_service())
    try:
        request = urllib.request.Request(
            f"{server.url}/v1/readings",
            data=json.dumps([reading_item()]).encode(),
            method="POST",
            headers={"x-api-key": CLINIC_KEY, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        assert len(stream.taken) == 1
    finally:
        server.stop()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", server.port), 1),
    ):
        pass


def test_start_api_reports_why_it_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_INGEST_NIGHTSCOUT_SECRET", "short")
    assert start_api(load_settings(state_dir=tmp_path), port=free_port()) is None
    assert "ingest API not served: the Nightscout API secret must be at least 12" in (
        capsys.readouterr().out
    )


def test_start_api_announces_the_url_and_local_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_api(load_settings(state_dir=tmp_path), port=free_port())
    assert server is not None
    server.stop()
    out = capsys.readouterr().out
    assert f"ingest API: {server.url}" in out
    assert "x-api-key gs-local-development-key" in out


def test_older_entries_come_from_the_local_lake_through_the_composition_root(
    tmp_path: Path,
) -> None:
    """Local mode's API (build_service: the lake read on DuckDB) answers a range older than the
    read path's window from the curated readings the local pipeline wrote."""
    settings = load_settings(state_dir=tmp_path)
    ingest = load_ingest_settings()
    site = ingest.nightscout(settings)
    assert site is not None
    service = build_service(settings, ingest)
    patient = service.site_pseudonym(site.principal)
    start = ms("2024-03-01T06:00")
    write_raw(settings, "a", [Raw(patient, start + i * 5 * MINUTE_MS, 100 + i) for i in range(3)])
    run_elt(local_lake(settings))
    server = serve(settings, port=0, ingest=ingest, service=service)
    try:
        query = f"find[date][$gte]={start}&find[date][$lte]={start + 3_600_000}"
        request = urllib.request.Request(
            f"{server.url}/api/v1/entries.json?{query}",
            headers={"api-secret": hashlib.sha1(LOCAL_NIGHTSCOUT_SECRET.encode()).hexdigest()},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            entries = json.loads(response.read())
    finally:
        server.stop()
    assert [(e["sgv"], e["delta"], e["date"]) for e in entries] == [
        (102, 1, start + 10 * MINUTE_MS),
        (101, 1, start + 5 * MINUTE_MS),
        (100, 0, start),
    ]
