"""Ingest API benchmark: accepted readings/s through the local API against the producer's direct
publish rate, same run, same local stack.

Baseline: ``Producer.publish`` of the readings (encode + PutRecords batches), what a trusted
in-process uploader pays. Measured: ``POST /v1/readings`` with 288 readings a request (one day of
5-minute readings), through the local WSGI adapter, the Powertools resolver, validation,
pseudonymisation and the same producer; one client connection at a time and ``--clients``
concurrent ones (the local server resolves one event at a time, as one Lambda instance does).

Followers (issue 18): ``--followers`` Nightscout followers each poll
``GET /api/v1/entries.json?find[date][$gt]=<newest they have>`` every 5 s, first alone (the
baseline), then beside ``--uploaders`` xDrip+-like uploaders posting one entry at a time with no
pause. Printed: p50/p99 of follower reads and of uploads, the p99 ratio loaded/alone, and the
5xx count (target: none). Every follower must see every uploaded entry exactly once.

Edits by identifier: xDrip+ PUTs every treatment with its ``_id``; the API finds the stored one
by that identifier wherever it is. Timed: ``PUT /api/v1/treatments`` editing (and moving by a
second) each of 30 treatments while they are the whole collection (the baseline), then again
once ``--treatments`` newer ones are stored (locally moto's Query reads the patient's whole
partition, so both grow with it here); and the items DynamoDB reads to find one through its
reference, against reading the collection as the upsert did before (what bills and scales in
AWS).

    python bench/ingest_api.py [--patients 50] [--rounds 3] [--clients 4]
                               [--followers 50] [--uploaders 4] [--seconds 20]
                               [--treatments 4000]

Starts its own local stack and API server on free loopback ports and stops both.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import quantiles
from typing import Any

from _stack import free_port, temporary_stack

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.nightscout_documents import NightscoutDocuments
from glucosestream.adapters.producer import Producer
from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import GlucoseReading, ReadingSource, Trend, sensor_status
from glucosestream.ingest.api.auth import sha256_hex
from glucosestream.ingest.api.config import load_ingest_settings
from glucosestream.local.apigateway import serve
from tests.support.dynamodb_reads import CountingClient

API_KEY = "bench-key-0123456789abcdef"
NIGHTSCOUT_SECRET = "bench-nightscout-secret"
SECRET_SHA1 = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
PER_REQUEST = 288
START_MS = 1_767_571_200_000


def request_bodies(patients: int, offset_ms: int) -> list[bytes]:
    bodies = []
    for patient in range(patients):
        items = [
            {
                "patient_id": f"bench/{patient:05d}",
                "device_id": f"dexcom-{patient:05d}",
                "measured_at": START_MS + offset_ms + i * 300_000,
                "utc_offset_minutes": 60,
                "glucose": 80 + (i * 13 + patient) % 150,
                "unit": "mg/dL",
                "trend": "FLAT",
            }
            for i in range(PER_REQUEST)
        ]
        bodies.append(json.dumps(items).encode())
    return bodies


def readings(patients: int, offset_ms: int, key: bytes) -> list[GlucoseReading]:
    out = []
    for patient in range(patients):
        pseudonym = pseudonymise(f"bench/{patient:05d}", key)
        for i in range(PER_REQUEST):
            value = 80 + (i * 13 + patient) % 150
            out.append(
                GlucoseReading(
                    patient_id=pseudonym,
                    device_id=f"dexcom-{patient:05d}",
                    session_id=f"dexcom-{patient:05d}",
                    measured_at=START_MS + offset_ms + i * 300_000,
                    utc_offset_minutes=60,
                    glucose_mg_dl=value,
                    status=sensor_status(value),
                    trend=Trend.FLAT,
                    source=ReadingSource.CGM,
                    produced_at=START_MS,
                )
            )
    return out


def post_all(port: int, bodies: list[bytes]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    accepted = 0
    for body in bodies:
        connection.request(
            "POST", "/v1/readings", body, {"Content-Type": "application/json", "x-api-key": API_KEY}
        )
        response = connection.getresponse()
        document: dict[str, Any] = json.loads(response.read())
        if response.status != 202:
            raise SystemExit(f"API answered {response.status}: {document}")
        accepted += int(document["accepted"])
        # A fresh connection per request, as independent uploaders make them.
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    return accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--uploaders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--treatments", type=int, default=4000, help="edits: newer ones stored")
    args = parser.parse_args()

    with temporary_stack() as settings:
        ingest = load_ingest_settings(
            api_keys=json.dumps(
                {
                    "keys": [
                        {
                            "tenant": "bench",
                            "sha256": sha256_hex(API_KEY),
                            "patient_prefix": "bench/",
                        }
                    ]
                }
            ),
            rate_per_s=1e6,
            burst=1_000_000,
            nightscout_secret=NIGHTSCOUT_SECRET,
            nightscout_patient="bench-site",
        )
        server = serve(settings, port=free_port(), ingest=ingest)
        try:
            run(settings, server.port, args)
            followers(server.port, args)
            edits(settings, server.port, args)
        finally:
            server.stop()


def run(settings: Any, port: int, args: argparse.Namespace) -> None:
    stream = readings_stream(settings)
    producer = Producer(stream)
    timings: dict[str, list[float]] = {
        "producer direct": [],
        "API, 1 client": [],
        "API, N clients": [],
    }
    counts: dict[str, int] = {}
    for round_number in range(args.rounds):  # interleaved, so drift hits all alike
        offset = round_number * 86_400_000  # new days each round: no reading is sent twice
        direct = readings(args.patients, offset, settings.pseudonym_key_bytes)
        bodies = request_bodies(args.patients, offset + 3 * 86_400_000 * args.rounds)
        more = request_bodies(args.patients, offset + 6 * 86_400_000 * args.rounds)
        more_chunks = [more[i :: args.clients] for i in range(args.clients)]

        started = time.perf_counter()
        counts["producer direct"] = producer.publish(direct).sent
        timings["producer direct"].append(time.perf_counter() - started)

        started = time.perf_counter()
        counts["API, 1 client"] = post_all(port, bodies)
        timings["API, 1 client"].append(time.perf_counter() - started)

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            counts["API, N clients"] = sum(pool.map(lambda c: post_all(port, c), more_chunks))
        timings["API, N clients"].append(time.perf_counter() - started)

    best = {name: min(values) for name, values in timings.items()}
    rates = {name: counts[name] / best[name] for name in best}
    print(
        f"readings per round: {args.patients * PER_REQUEST} ({args.patients} requests of "
        f"{PER_REQUEST}), best of {args.rounds}, {args.clients} clients for 'N'"
    )
    for name, rate in rates.items():
        print(f"  {name:>16}: {rate:>10,.0f} accepted readings/s")
    direct = rates["producer direct"]
    print(f"  ratio API (1 client) / producer direct: {rates['API, 1 client'] / direct:.2f}")
    print(f"  ratio API (N clients) / producer direct: {rates['API, N clients'] / direct:.2f}")


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"api-secret": SECRET_SHA1, "Content-Type": "application/json"}
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def followers(port: int, args: argparse.Namespace) -> None:
    """Followers polling alone, then beside uploaders; latencies, 5xx, completeness."""
    uploaded: list[int] = []
    lock = threading.Lock()
    next_date = [int(time.time() * 1000) - 3_600_000]

    def upload_until(deadline: float, latencies: list[float], errors: list[int]) -> None:
        while time.perf_counter() < deadline:
            with lock:
                next_date[0] += 1_000  # a new entry each time (xDrip+ sends one per reading)
                date = next_date[0]
            entry = [{"type": "sgv", "sgv": 100 + date % 50, "date": date, "device": "xDrip"}]
            started = time.perf_counter()
            status, _ = _request(port, "POST", "/api/v1/entries", json.dumps(entry).encode())
            latencies.append(time.perf_counter() - started)
            if status >= 500:
                errors.append(status)
            elif status == 200:
                with lock:
                    uploaded.append(date)

    def follow_until(
        deadline: float, since: int, latencies: list[float], errors: list[int], seen: list[int]
    ) -> None:
        time.sleep(5.0 * (threading.get_ident() % 97) / 97)  # spread the polls over 5 s
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, body = _request(
                port, "GET", f"/api/v1/entries.json?count=2016&find[date][$gt]={since}"
            )
            latencies.append(time.perf_counter() - started)
            if status >= 500:
                errors.append(status)
            elif status == 200 and body:
                seen.extend(entry["date"] for entry in body)
                since = max(since, *(entry["date"] for entry in body))
            time.sleep(max(0.0, 5.0 - (time.perf_counter() - started)))

    def phase(with_uploaders: bool) -> dict[str, Any]:
        reads: list[float] = []
        uploads: list[float] = []
        errors: list[int] = []
        seen: list[list[int]] = [[] for _ in range(args.followers)]
        since = next_date[0]
        deadline = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(target=follow_until, args=(deadline, since, reads, errors, seen[i]))
            for i in range(args.followers)
        ]
        if with_uploaders:
            threads += [
                threading.Thread(target=upload_until, args=(deadline, uploads, errors))
                for _ in range(args.uploaders)
            ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # A last poll each, after the uploads stopped: every entry must have been seen once.
        for i in range(args.followers):
            last = max(seen[i], default=since)
            status, body = _request(
                port, "GET", f"/api/v1/entries.json?count=2016&find[date][$gt]={last}"
            )
            if status == 200 and body:
                seen[i].extend(entry["date"] for entry in body)
        complete = sum(sorted(s) == sorted(d for d in uploaded if d > since) for s in seen)
        return {"reads": reads, "uploads": uploads, "errors": errors, "complete": complete}

    alone = phase(with_uploaders=False)
    loaded = phase(with_uploaders=True)

    def p(values: list[float], q: int) -> float:
        return (
            quantiles(values, n=100, method="inclusive")[q - 1] * 1000
            if len(values) > 1
            else float("nan")
        )

    print(
        f"followers: {args.followers} polling every 5 s for {args.seconds:g} s, alone then beside "
        f"{args.uploaders} uploaders posting one entry at a time"
    )
    for label, values in (
        ("follower reads alone", alone["reads"]),
        ("follower reads loaded", loaded["reads"]),
        ("uploads", loaded["uploads"]),
    ):
        print(
            f"  {label:<22} {len(values):>5} requests, p50 {p(values, 50):7.1f} ms, "
            f"p99 {p(values, 99):7.1f} ms"
        )
    print(
        f"  ratio follower p99 loaded / alone: {p(loaded['reads'], 99) / p(alone['reads'], 99):.2f}"
    )
    errors = len(alone["errors"]) + len(loaded["errors"])
    print(f"  5xx answers: {errors} (target 0: {'met' if errors == 0 else 'MISSED'})")
    print(
        f"  followers that saw every uploaded entry exactly once: {loaded['complete']} of "
        f"{args.followers}"
    )


EDITED = 30
"""Treatments edited in each phase of :func:`edits`."""


def edits(settings: Any, port: int, args: argparse.Namespace) -> None:
    """PUT edits of the oldest treatments, alone in the collection then behind newer ones;
    the items DynamoDB reads to find one, against reading the collection."""
    start = (int(time.time()) - 30 * 86_400) * 1000

    def treatment(index: int, moved_s: int = 0) -> dict[str, Any]:
        return {
            "_id": f"{index:024x}",
            "eventType": "Carb Correction",
            "carbs": 10 + index % 40,
            "date": start + index * 300_000 + moved_s * 1000,
            "enteredBy": "xdrip",
        }

    def put_edits(moved_s: int) -> list[float]:
        latencies = []
        for index in range(EDITED):
            body = json.dumps(treatment(index, moved_s)).encode()
            started = time.perf_counter()
            status, _ = _request(port, "PUT", "/api/v1/treatments", body)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"PUT /api/v1/treatments answered {status}")
        return latencies

    for index in range(EDITED):
        _request(port, "PUT", "/api/v1/treatments", json.dumps(treatment(index)).encode())
    alone = put_edits(moved_s=1)
    newer = [treatment(index) for index in range(EDITED, EDITED + args.treatments)]
    for first in range(0, len(newer), 500):
        body = json.dumps(newer[first : first + 500]).encode()
        status, _ = _request(port, "POST", "/api/v1/treatments", body)
        if status != 200:
            raise RuntimeError(f"POST /api/v1/treatments answered {status}")
    behind = put_edits(moved_s=2)
    # Every edited one stored once, at its last time (the listing reads the newest 5,000).
    last_edited = start + (EDITED - 1) * 300_000 + 2000
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(last_edited / 1000))
    status, stored = _request(
        port, "GET", f"/api/v1/treatments.json?count=2016&find[created_at][$lte]={iso}.000Z"
    )
    once = status == 200 and sorted(t["date"] for t in stored) == [
        start + index * 300_000 + 2000 for index in range(EDITED)
    ]

    # What DynamoDB reads to find one (items returned), through the adapter the API uses.
    table = settings.names.nightscout_table
    counting = CountingClient(aws_client("dynamodb", settings))
    (patient,) = {
        item["patient_id"]["S"]
        for item in counting.client.scan(TableName=table, ProjectionExpression="patient_id")[
            "Items"
        ]
    }
    documents = NightscoutDocuments(counting, table, 14)
    documents.with_identifiers(patient, "treatments", [f"{0:024x}"])  # the marker, once
    counting.items_read = 0
    found = documents.with_identifiers(patient, "treatments", [f"{0:024x}"])
    by_reference = counting.items_read
    counting.items_read = 0
    documents.newest(patient, "treatments", limit=EDITED + args.treatments)
    by_collection = counting.items_read

    print(
        f"edits by identifier: PUT /api/v1/treatments of {EDITED} treatments, each moved a second"
    )
    for label, values in (("alone", alone), (f"behind {args.treatments:,} newer", behind)):
        cuts = quantiles(values, n=100)
        print(f"  {label:<20} p50 {cuts[49] * 1000:7.1f} ms, p99 {cuts[98] * 1000:7.1f} ms")
    ratio = quantiles(behind, n=100)[49] / quantiles(alone, n=100)[49]
    print(
        f"  ratio p50 behind / alone: {ratio:.2f} (locally: moto's Query reads the patient's "
        "whole partition whatever its key condition, DynamoDB's reads the matching range)"
    )
    print(
        f"  items DynamoDB reads to find one: {by_reference} (its reference and the document; "
        f"found {len(found)}) against {by_collection:,} reading the collection as the upsert did; "
        f"ratio {by_collection / max(by_reference, 1):,.0f}x"
    )
    print(f"  each edited treatment stored once, at its new time: {'yes' if once else 'NO'}")


if __name__ == "__main__":
    main()
