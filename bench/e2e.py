"""End-to-end benchmark: the readings/s the whole local stack sustains, and the alert latency there.

The stack as ``make run`` runs it: Kinesis (kinesalite) and DynamoDB/SNS/SQS (moto) servers, the
alerts consumer and the Firehose worker as separate worker processes. A cohort of ``--patients``
reports in rounds (every patient one reading per round, the simulated clock 5 minutes on per
round; a tenth of the patients fall into a hypo in staggered waves, so alerts keep coming), at a
rising round rate. A load is *sustained* when, at the end of its step, both consumers are less
than ``--max-lag`` seconds behind the stream's tip and have taken everything put more than that
long ago. Reported: the highest sustained readings/s, against the producer's own publish rate
measured first in the same run (the ceiling the consumers are compared with), and at that load
the alert latency PutRecords -> alert in the SQS queue subscribed to the alerts topic (p50, p99).
The dashboard's queue on the same topic is drained as the dashboard drains it.

    python bench/e2e.py [--patients 200] [--step-seconds 12] [--max-lag 5]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from statistics import quantiles
from typing import Any

from _stack import dashboard_draining, temporary_stack

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.adapters.sqs_queue import SqsQueue
from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import GlucoseReading, ReadingSource, ReadingStatus, Trend
from glucosestream.local.workers import WorkerProcess, read_json, stats_file
from glucosestream.settings import Settings

FALL = [92, 84, 76, 69, 63, 58, 52, 49, 60, 75, 95, 110]
ROUND_MS = 300_000


class Load:
    """Rounds of readings of one cohort; remembers when each falling reading was put."""

    def __init__(self, patients: int, name: str = "e2e") -> None:
        key = b"e2e-bench-key-0123456789abcdef0123"
        self.ids = [pseudonymise(f"{name}-{i}", key) for i in range(patients)]
        self.round = 0
        self.start_ms = int(time.time() * 1000)
        self.put_at: dict[tuple[str, int], float] = {}

    def next_round(self) -> list[GlucoseReading]:
        measured = self.start_ms + self.round * ROUND_MS
        batch = []
        for index, patient in enumerate(self.ids):
            position = (self.round - index) % (len(FALL) * 4) if index % 10 == 0 else -1
            value = FALL[position] if 0 <= position < len(FALL) else 110
            batch.append(
                GlucoseReading(
                    patient, "e2e-device", "s1", measured, 0, value, ReadingStatus.OK,
                    Trend.FLAT, ReadingSource.CGM, measured,
                )
            )  # fmt: skip
        self.round += 1
        return batch


def producer_rate(settings: Settings, patients: int, rounds: int) -> float:
    stream = readings_stream(settings)
    producer = Producer(stream)
    load = Load(patients, "baseline")  # other patients: the steps' clocks start afresh
    batches = [load.next_round() for _ in range(rounds)]
    started = time.perf_counter()
    for batch in batches:
        producer.publish(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - started)


def consumer_lag_s(settings: Settings, published: int) -> tuple[float, int, int]:
    """(largest MillisBehindLatest of the two consumers in s, alerts consumed, raw rows landed)."""
    alerts = read_json(stats_file(settings, "alerts"))
    firehose = read_json(stats_file(settings, "firehose"))
    lag = max(
        [*(alerts.get("millis_behind_latest") or {}).values(),
         *(firehose.get("millis_behind_latest") or {}).values(), 0]
    )  # fmt: skip
    return lag / 1000, int(alerts.get("records_succeeded", 0)), int(firehose.get("user_records", 0))


def run_step(
    settings: Settings, load: Load, rounds_per_s: float, seconds: float, max_lag_s: float,
    latencies: list[float], published: list[int],
) -> tuple[bool, float]:  # fmt: skip
    stream = readings_stream(settings)
    producer = Producer(stream)
    started = time.monotonic()
    next_round = started
    rounds = 0
    while time.monotonic() - started < seconds:
        batch = load.next_round()
        sent_at = time.monotonic()
        producer.publish(batch)
        for reading in batch:
            load.put_at[(reading.patient_id, reading.measured_at)] = sent_at
        published[0] += len(batch)
        rounds += 1
        next_round += 1 / rounds_per_s
        pause = next_round - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    achieved = rounds * len(load.ids) / (time.monotonic() - started)
    # Consumers get max_lag_s to take everything put before the step ended.
    deadline = time.monotonic() + max_lag_s
    while time.monotonic() < deadline:
        lag, consumed, landed = consumer_lag_s(settings, published[0])
        if consumed >= published[0] and landed >= published[0] and lag <= max_lag_s:
            return True, achieved
        time.sleep(0.25)
    lag, consumed, landed = consumer_lag_s(settings, published[0])
    print(
        f"   behind: alerts consumed {consumed}, firehose read {landed} of {published[0]} "
        f"published; lag {lag:.1f} s"
    )
    return False, achieved


def receive_alerts(
    settings: Settings, load: Load, latencies: list[float], stop: threading.Event
) -> None:
    feed = SqsQueue(aws_client("sqs", settings), settings.names.alerts_feed_queue)
    while not stop.is_set():
        messages = feed.receive(wait_s=1)
        for message in messages:
            alert: dict[str, Any] = json.loads(message.body)
            sent = load.put_at.get((alert["patient_id"], alert["measured_at"]))
            if sent is not None:
                latencies.append(time.monotonic() - sent)
        feed.delete_many(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--step-seconds", type=float, default=12.0)
    parser.add_argument("--max-lag", type=float, default=5.0)
    parser.add_argument("--rates", default="2,4,8,12,16,24,32", help="rounds per second, rising")
    args = parser.parse_args()
    with temporary_stack() as settings, dashboard_draining(settings):
        baseline = producer_rate(settings, args.patients, rounds=40)
        print(f"baseline: the producer alone publishes {baseline:,.0f} readings/s")
        workers = [
            WorkerProcess("alerts", [], settings),
            WorkerProcess("firehose", ["--buffer-seconds", "5"], settings),
        ]
        for worker in workers:
            worker.start()
        load = Load(args.patients)
        stop = threading.Event()
        try:
            # The consumers first take the baseline's readings, so steps start at the tip.
            published = [args.patients * 40]
            deadline = time.monotonic() + 120
            while consumer_lag_s(settings, 0)[1] < published[0] and time.monotonic() < deadline:
                time.sleep(0.5)
            sustained = 0.0
            sustained_latencies: list[float] = []
            for rate in (float(r) for r in args.rates.split(",")):
                latencies: list[float] = []
                receiver = threading.Thread(
                    target=receive_alerts, args=(settings, load, latencies, stop), daemon=True
                )
                receiver.start()
                kept_up, achieved = run_step(
                    settings, load, rate, args.step_seconds, args.max_lag, latencies, published
                )
                time.sleep(2)  # the last alerts of the step
                stop.set()
                receiver.join()
                stop.clear()
                cuts = quantiles(latencies, n=100) if len(latencies) >= 20 else None
                latency_text = (
                    f"alert latency p50 {cuts[49]:.2f} s, p99 {cuts[98]:.2f} s "
                    f"over {len(latencies)} alerts"
                    if cuts
                    else f"{len(latencies)} alerts"
                )
                print(
                    f"step {achieved:,.0f} readings/s: "
                    f"{'sustained' if kept_up else 'consumers fell behind'}; {latency_text}"
                )
                if not kept_up:
                    break
                sustained, sustained_latencies = achieved, latencies
        finally:
            for worker in workers:
                worker.stop()
    if sustained == 0:
        print("end-to-end: no load step was sustained")
        return
    print(
        f"end-to-end: {sustained:,.0f} readings/s sustained (alerts consumer + Firehose worker "
        f"within {args.max_lag:g} s of the tip); ratio to the producer alone "
        f"{sustained / baseline:.2f}"
    )
    if len(sustained_latencies) >= 20:
        cuts = quantiles(sustained_latencies, n=100)
        print(
            f"end-to-end alert latency at that load: p50 {cuts[49]:.2f} s, p99 {cuts[98]:.2f} s "
            "(includes the 1 s batching window)"
        )


if __name__ == "__main__":
    main()
