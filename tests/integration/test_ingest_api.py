"""The ingest API on 127.0.0.1 against the local stack: Kinesis really takes the readings.

Also: a real Nightscout client (py-nightscout, aiohttp) reads entries and status, schemathesis
fuzzes every operation from the generated OpenAPI document, 503 when Kinesis is down, and the
import command through the stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from glucosestream.adapters.kinesis import readings_stream
from glucosestream.cli import main as cli
from glucosestream.contract.codec import default_codec
from glucosestream.domain.identity import pseudonymise
from glucosestream.ingest.api.auth import sha256_hex
from glucosestream.ingest.api.config import IngestSettings, load_ingest_settings
from glucosestream.local.apigateway import ApiServer, serve
from glucosestream.settings import Settings
from tests.integration.conftest import free_port, stack_settings

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
API_KEY = "clinic-7-uploader-key-7f3a9c"
SECRET = "correct-horse-battery"
SECRET_SHA1 = hashlib.sha1(SECRET.encode()).hexdigest()


def ingest_settings(**overrides: object) -> IngestSettings:
    keys = {
        "keys": [
            {"tenant": "clinic-7", "sha256": sha256_hex(API_KEY), "patient_prefix": "clinic-7/"}
        ]
    }
    values: dict[str, object] = {
        "api_keys": json.dumps(keys),
        "nightscout_secret": SECRET,
        "nightscout_patient": "clinic-7/alice",
        "rate_per_s": 1000.0,
        "burst": 1000,
        "max_body_bytes": 256 * 1024,
    }
    return load_ingest_settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def api(running_stack: Settings) -> Iterator[ApiServer]:
    server = serve(running_stack, port=free_port(), ingest=ingest_settings())
    try:
        yield server
    finally:
        server.stop()


def call(
    server: ApiServer, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, Any, dict[str, str]]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def stream_event_ids(settings: Settings) -> list[str]:
    stream = readings_stream(settings)
    codec = default_codec()
    return [
        codec.decode(record.data)["event_id"]
        for shard in stream.shard_ids()
        for record in stream.read_available(shard)
    ]


def day_of_readings(patient: str, start_ms: int = 1_767_571_200_000) -> list[dict[str, Any]]:
    return [
        {
            "patient_id": patient,
            "device_id": "dexcom-g7-9QX7LM",
            "measured_at": start_ms + i * 300_000,
            "utc_offset_minutes": 60,
            "glucose": 90 + (i * 7) % 110,
            "unit": "mg/dL",
            "trend": "FLAT",
        }
        for i in range(288)
    ]


def test_readings_are_on_the_stream_when_answered_202_and_retries_keep_identities(
    api: ApiServer, running_stack: Settings
) -> None:
    before = stream_event_ids(running_stack)
    status, body, _ = call(
        api,
        "POST",
        "/v1/readings",
        day_of_readings("clinic-7/patient-0001"),
        **{"x-api-key": API_KEY},
    )
    assert status == 202
    assert body["accepted"] == 288
    after_first = stream_event_ids(running_stack)
    assert sorted(after_first[len(before) :]) == sorted(body["event_ids"])
    # The client retries (e.g. it never saw the 202): the same identities again, nothing new.
    status, again, _ = call(
        api,
        "POST",
        "/v1/readings",
        day_of_readings("clinic-7/patient-0001"),
        **{"x-api-key": API_KEY},
    )
    assert status == 202
    assert again["event_ids"] == body["event_ids"]
    assert set(stream_event_ids(running_stack)[len(after_first) :]) == set(body["event_ids"])


def test_other_tenant_wrong_key_and_size_limit(api: ApiServer) -> None:
    status, body, _ = call(
        api,
        "POST",
        "/v1/readings",
        day_of_readings("clinic-8/patient-0001")[:3],
        **{"x-api-key": API_KEY},
    )
    assert status == 403
    assert "may not write" in body["rejected"][0]["reason"]
    status, body, _ = call(
        api, "POST", "/v1/readings", day_of_readings("clinic-7/x")[:3], **{"x-api-key": "guess"}
    )
    assert status == 401
    assert body["message"] == "unknown API key"
    status, body, _ = call(
        api, "POST", "/v1/readings", b"[" + b" " * (300 * 1024) + b"]", **{"x-api-key": API_KEY}
    )
    assert status == 413
    assert "byte limit" in body["message"]


def test_xdrip_upload_then_py_nightscout_reads_status_and_entries(
    api: ApiServer, running_stack: Settings
) -> None:
    import py_nightscout

    recorded = json.loads(
        (Path(__file__).parents[1] / "events" / "nightscout_xdrip_entries.json").read_text()
    )
    # Moved to the last minutes: followers (and Nightscout) read the last 4 days by default.
    shift = int(time.time() * 1000) - 60_000 - max(e["date"] for e in recorded)
    entries = [{**e, "date": e["date"] + shift} for e in recorded]
    for entry in entries:
        del entry["dateString"]  # the date is what counts; a stale string would contradict it
    status, body, _ = call(api, "POST", "/api/v1/entries", entries, **{"api-secret": SECRET_SHA1})
    assert status == 200
    assert len(body) == 3

    async def read() -> tuple[Any, list[Any]]:
        client = py_nightscout.Api(api.url, api_secret=SECRET)
        return await client.get_server_status(), await client.get_sgvs()

    server_status, sgvs = asyncio.run(read())
    assert server_status.status == "ok"
    assert server_status.apiEnabled is True
    assert [s.sgv for s in sgvs] == [104, 107, 110]
    assert [s.direction for s in sgvs] == ["Flat", "FortyFiveDown", "FortyFiveDown"]
    assert sgvs[0].delta == -3
    patient = pseudonymise("clinic-7/alice", running_stack.pseudonym_key_bytes)
    assert sgvs[0]._json["_id"] in stream_event_ids(running_stack)
    assert patient.startswith("p_")


def test_py_nightscout_with_a_wrong_secret_is_refused(api: ApiServer) -> None:
    import aiohttp
    import py_nightscout

    async def read() -> None:
        await py_nightscout.Api(api.url, api_secret="not-the-secret-at-all").get_sgvs()

    with pytest.raises(aiohttp.ClientResponseError) as refused:
        asyncio.run(read())
    assert refused.value.status == 401


def test_kinesis_down_is_503_with_retry_after(tmp_path: Path) -> None:
    nothing_there = stack_settings(tmp_path)  # ports chosen, stack never started
    server = serve(nothing_there, port=free_port(), ingest=ingest_settings(publish_timeout_s=1.0))
    try:
        status, body, headers = call(
            server,
            "POST",
            "/v1/readings",
            day_of_readings("clinic-7/p")[:10],
            **{"x-api-key": API_KEY},
        )
    finally:
        server.stop()
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert body["accepted"] == 0
    assert body["sent_before_failure"] == 0
    assert "0 of 10 valid readings reached it" in body["message"]


def test_adapter_refuses_an_oversized_body_before_reading_it(api: ApiServer) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as connection:
        connection.sendall(
            b"POST /v1/readings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999999\r\nx-api-key: " + API_KEY.encode() + b"\r\n\r\n["
        )
        chunks = []
        while chunk := connection.recv(4096):  # the server closes after answering
            chunks.append(chunk)
        reply = b"".join(chunks).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert "byte limit" in reply


def test_schemathesis_fuzzing_finds_no_5xx_and_every_refusal_has_a_reason(api: ApiServer) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    auth = {"x-api-key": API_KEY, "api-secret": SECRET_SHA1}
    seen: dict[int, int] = {}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @settings(
            max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=schema.as_strategy(mode))
        def check(case: Any) -> None:
            response = case.call(base_url=api.url, headers=auth)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                assert response.json().get("message"), (case.method, case.path, response.text)

        check()
    assert any(code < 300 for code in seen), seen
    assert any(400 <= code < 500 for code in seen), seen


def test_import_through_the_stream_twice_sends_the_same_identities(
    stack_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(stream_event_ids(stack_env))
    args = [
        "import",
        str(FIXTURES / "dexcom_clarity_mmol.csv"),
        "--patient",
        "sam",
        "--tz",
        "Europe/Berlin",
    ]
    assert cli.main(args) == 0
    assert "36 imported to the readings stream" in capsys.readouterr().out
    first = stream_event_ids(stack_env)[before:]
    assert cli.main(args) == 0
    second = stream_event_ids(stack_env)[before + len(first) :]
    # At-least-once through the stream: the copies carry the same identities, which the staging
    # dedupe collapses (the --to-lake path skips them instead; see the unit tests).
    assert len(first) == 36
    assert sorted(second) == sorted(first)


def test_treatments_posted_edited_and_deleted_reach_curated_as_their_latest_versions(
    api: ApiServer, stack_env: Settings
) -> None:
    from glucosestream.lake.raw_zone.schema import TREATMENTS
    from glucosestream.local.firehose import FirehoseWorker
    from glucosestream.local.pipeline_runner import run_pipeline

    hour_ago = time.time_ns() // 1_000_000 - 3_600_000
    bolus = {"_id": "65a1f0c2e4b0a1b2c3d4e5f1", "eventType": "Correction Bolus", "insulin": 1.5}
    meal = {"_id": "65a1f0c2e4b0a1b2c3d4e5f2", "eventType": "Meal Bolus", "carbs": 50}
    note = {"_id": "65a1f0c2e4b0a1b2c3d4e5f3", "eventType": "Note", "notes": "sensor change"}
    sent = [{**t, "date": hour_ago + i * 60_000} for i, t in enumerate((bolus, meal, note))]
    auth = {"api-secret": SECRET_SHA1}
    assert call(api, "POST", "/api/v1/treatments", sent, **auth)[0] == 200
    # xDrip+ corrects the meal's carbs (PUT, same _id), then deletes the bolus.
    corrected = {**sent[1], "carbs": 45}
    assert call(api, "PUT", "/api/v1/treatments", corrected, **auth)[0] == 200
    assert call(api, "DELETE", f"/api/v1/treatments/{bolus['_id']}", **auth)[1]["n"] == 1

    worker = FirehoseWorker(stack_env, raw_table=TREATMENTS, buffer_seconds=0)
    while worker.poll_once():
        pass
    worker.flush(force=True)
    ours = ", ".join(f"'{t['_id']}'" for t in (bolus, meal, note))  # other tests post too
    landed = duckdb.sql(
        "SELECT treatment_id, is_valid FROM read_parquet("
        f"'{stack_env.lake_dir}/raw/treatments/**/*.parquet', hive_partitioning = true) "
        f"WHERE treatment_id IN ({ours}) ORDER BY modified_at"
    ).fetchall()
    # Four versions: the bolus, the meal, the corrected meal, the bolus deleted (not the note).
    assert sorted(landed) == sorted(
        [(bolus["_id"], True), (meal["_id"], True), (meal["_id"], True), (bolus["_id"], False)]
    )
    run = run_pipeline(stack_env)
    assert run.execution.status == "SUCCEEDED"
    assert run.execution.output["curate"]["treatment_rows"] >= 1

    curated = duckdb.sql(
        "SELECT treatment_id, carbs_g, insulin_units, raw_rows FROM read_parquet("
        f"'{stack_env.lake_dir}/curated/treatments/**/*.parquet', hive_partitioning = true) "
        f"WHERE treatment_id IN ({ours})"
    ).fetchall()
    assert curated == [(meal["_id"], 45.0, None, 2)]


def test_deleted_entries_leave_the_read_path_now_and_curated_at_the_next_run(
    api: ApiServer, stack_env: Settings
) -> None:
    from glucosestream.lake.raw_zone.schema import ERASURES, READINGS
    from glucosestream.local.firehose import FirehoseWorker
    from glucosestream.local.pipeline_runner import run_pipeline

    auth = {"api-secret": SECRET_SHA1}
    start = time.time_ns() // 1_000_000 - 2 * 3_600_000
    entries = [
        {"type": "sgv", "sgv": 150 + i, "date": start + i * 300_000, "device": "xDrip-G7-DEL"}
        for i in range(4)
    ]
    assert call(api, "POST", "/api/v1/entries", entries, **auth)[0] == 200
    device = "find[device]=xDrip-G7-DEL"
    newest_two = f"/api/v1/entries?{device}&find[date][$gte]={start + 2 * 300_000}"
    assert call(api, "DELETE", newest_two)[0] == 401
    assert call(api, "DELETE", "/api/v1/entries", **auth)[0] == 400  # no find: refused
    assert call(api, "DELETE", newest_two, **auth)[1] == {"n": 2, "ok": 1}
    left = call(api, "GET", f"/api/v1/entries.json?{device}&count=10", **auth)[1]
    assert [e["sgv"] for e in left] == [151, 150]

    for raw_table in (READINGS, ERASURES):
        worker = FirehoseWorker(stack_env, raw_table=raw_table, buffer_seconds=0)
        while worker.poll_once():
            pass
        worker.flush(force=True)
    run = run_pipeline(stack_env)
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    curated = duckdb.sql(
        "SELECT glucose_mg_dl FROM read_parquet("
        f"'{stack_env.lake_dir}/curated/readings/**/*.parquet', hive_partitioning = true) "
        "WHERE device_id = 'xDrip-G7-DEL' ORDER BY measured_at"
    ).fetchall()
    assert curated == [(150,), (151,)]
