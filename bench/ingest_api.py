"""Ingest API benchmark: accepted readings/s through the local API against the producer's direct
publish rate, same run, same local stack.

Baseline: ``Producer.publish`` of the readings (encode + PutRecords batches), what a trusted
in-process uploader pays. Measured: ``POST /v1/readings`` with 288 readings a request (one day of
5-minute readings), through the local WSGI adapter, the Powertools resolver, validation,
pseudonymisation and the same producer; one client connection at a time and ``--clients``
concurrent ones (the local server resolves one event at a time, as one Lambda instance does).

    python bench/ingest_api.py [--patients 50] [--rounds 3] [--clients 4]

Starts its own local stack and API server on free loopback ports and stops both.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _stack import free_port, temporary_stack

from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import GlucoseReading, ReadingSource, Trend, sensor_status
from glucosestream.ingest.api.auth import sha256_hex
from glucosestream.ingest.api.config import load_ingest_settings
from glucosestream.local.apigateway import serve

API_KEY = "bench-key-0123456789abcdef"
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
        )
        server = serve(settings, port=free_port(), ingest=ingest)
        try:
            run(settings, server.port, args)
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


if __name__ == "__main__":
    main()
