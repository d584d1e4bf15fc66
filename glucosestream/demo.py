"""``glucosestream demo`` — what ``make run`` runs: the main job on one machine.

Brings the local stack up; streams a simulated cohort into Kinesis and reads it back (every
reading once, per-patient order kept); then runs the alerts consumer (the same Lambda handler,
behind the local event-source mapping) while a live cohort streams at an accelerated clock, and
prints each alert as it arrives in the SQS queue subscribed to the alerts topic, with a health
line every few seconds. Ctrl-C or SIGTERM stops every thread and process it started.
"""

from __future__ import annotations

import io
import json
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import takewhile
from types import FrameType
from typing import Any, TextIO

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import KinesisStream
from glucosestream.codec import default_codec
from glucosestream.local import stack
from glucosestream.local.esm import EventSourceMapping, MappingConfig
from glucosestream.settings import Settings
from stream.producer import Producer
from stream.publishing import publish_deliveries
from stream.simulator import CohortConfig, Delivery, simulate

ALERTS_MAPPING = MappingConfig(
    batch_size=100,
    maximum_batching_window_s=1,
    report_batch_item_failures=True,
    bisect_batch_on_function_error=True,
    maximum_retry_attempts=3,
    maximum_record_age_s=21_600,
    starting_position="TRIM_HORIZON",
)
"""The settings Terraform deploys for the alerts consumer (the DLQ URL is added at run time)."""


DRAIN_S = 2.0
"""On shutdown, how long the consumers get to catch up with the last readings published."""


@dataclass(frozen=True)
class DemoOptions:
    patients: int = 20
    days: float = 1.0
    seed: int = 1
    speed: float = 120.0
    """Live stream: simulated seconds per wall second."""
    duration_s: float | None = None
    """Seconds to run the live part; None = until Ctrl-C / SIGTERM."""
    health_every_s: float = 10.0
    pipeline_every_s: float = 60.0
    """How often the ELT pipeline (Step Functions ASL, run locally) runs; 0 = never."""


class _Stop(BaseException):
    """Raised by the signal handler. A BaseException, like KeyboardInterrupt: botocore retries
    on any Exception raised during a request, which would swallow the stop."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def run_demo(settings: Settings, options: DemoOptions) -> int:
    # Installed explicitly: a process started in the background inherits SIGINT ignored, and
    # Python then never raises KeyboardInterrupt.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    ours = not stack.status(settings).running
    stop = threading.Event()
    console = sys.stdout
    live: LiveDemo | None = None
    try:
        status = stack.up(settings)
        print(
            "local stack:", ", ".join(f"{k} {v}" for k, v in status.endpoints.items()), flush=True
        )
        if not stream_and_verify(settings, options):
            return 1
        live = LiveDemo(settings, options, stop)
        live.start()
        print(
            f"live: {options.patients} patients at {options.speed:g}x; alerts below "
            "(Ctrl-C to stop)",
            flush=True,
        )
        live.watch()
        return 0
    except _Stop as stopped:
        print(f"\nstopping ({stopped})", flush=True)
        return 0
    finally:
        # A second Ctrl-C must not interrupt the shutdown half way.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        if live is not None:
            live.shut_down()
        stop.set()
        sys.stdout = console
        if ours:
            stopped_names = stack.down(settings)
            print(f"stopped {', '.join(stopped_names) or 'nothing'}", flush=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ThreadStdout(io.TextIOBase):
    """stdout that sends what named threads write to their own files, the rest to the console."""

    def __init__(self, console: TextIO, by_thread: dict[str, TextIO]) -> None:
        self.console = console
        self.by_thread = by_thread

    def _target(self) -> TextIO:
        # Worker threads a named thread starts carry its name as a prefix.
        name = threading.current_thread().name
        for prefix, target in self.by_thread.items():
            if name.startswith(prefix):
                return target
        return self.console

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()


class LiveDemo:
    """The live part: publisher thread, alerts consumer thread, and the console."""

    def __init__(self, settings: Settings, options: DemoOptions, stop: threading.Event) -> None:
        self.settings = settings
        self.options = options
        self.stop = stop
        self.stop_publishing = threading.Event()
        self.messages: list[str] = []
        now_ms = int(time.time() * 1000)
        self.sim_start_ms = now_ms - now_ms % 60_000
        self.latest_arrival_ms = 0
        self.threads: dict[str, threading.Thread] = {}
        self.published = 0
        self.errors: list[str] = []
        # In Lambda the handler's stdout (JSON logs, EMF metrics) goes to CloudWatch Logs; here
        # it goes to a log file, and the console keeps the alerts and health lines.
        logs = settings.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.lambda_log = (logs / "lambda-alerts.log").open("a", encoding="utf-8")
        self.firehose_log = (logs / "firehose.log").open("a", encoding="utf-8")
        self.router = ThreadStdout(
            sys.stdout, {"alerts-esm": self.lambda_log, "firehose": self.firehose_log}
        )
        sys.stdout = self.router
        from consumers.alerts.handler import lambda_handler
        from glucosestream.local.firehose import FirehoseWorker

        # Firehose buffers up to 60 s or 64 MiB; 10 s makes the lake fill visibly in a demo.
        self.firehose = FirehoseWorker(settings, buffer_seconds=10)

        sqs = aws_client("sqs", settings)
        self.sqs = sqs
        self.feed_url = sqs.get_queue_url(QueueName=settings.names.alerts_feed_queue)["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=settings.names.alerts_dlq)["QueueUrl"]
        config = MappingConfig(**{**ALERTS_MAPPING.__dict__, "on_failure_queue_url": dlq_url})
        self.mapping = EventSourceMapping("alerts", settings, lambda_handler, config)

    def start(self) -> None:
        for name, target in (
            ("publisher", self._publish),
            ("alerts-esm", self._consume),
            ("firehose", self._deliver),
            ("pipeline", self._pipeline),
        ):
            self.threads[name] = threading.Thread(target=target, name=name, daemon=True)
            self.threads[name].start()

    def shut_down(self) -> None:
        """Producer first, then give the consumers a moment to take what it sent, then them:
        a clean stop leaves nothing in the stream that the next run would have to deliver."""
        self.stop_publishing.set()
        self.threads["publisher"].join(timeout=30)
        self.stop.wait(DRAIN_S)
        self.stop.set()
        for name in ("alerts-esm", "firehose", "pipeline"):
            self.threads[name].join(timeout=120)

    def _publish(self) -> None:
        now_ms = self.sim_start_ms
        config = CohortConfig(
            patients=self.options.patients,
            days=30,
            seed=self.options.seed + 1,
            start_ms=now_ms - now_ms % 60_000,
            pseudonym_key=self.settings.pseudonym_key_bytes,
        )
        stream = KinesisStream(
            aws_client("kinesis", self.settings), self.settings.names.readings_stream
        )
        deliveries = self._tracked(
            takewhile(lambda _: not self.stop_publishing.is_set(), simulate(config))
        )

        def count(sent: int) -> None:
            self.published += sent

        try:
            publish_deliveries(deliveries, Producer(stream), self.options.speed, count)
        except Exception as error:  # shown on the console; the demo keeps serving
            self.errors.append(f"publisher stopped: {error}")

    def _tracked(self, deliveries: Iterator[Delivery]) -> Iterator[Delivery]:
        for delivery in deliveries:
            self.latest_arrival_ms = max(self.latest_arrival_ms, delivery.arrival_at)
            yield delivery

    def _deliver(self) -> None:
        try:
            self.firehose.run(self.stop)
        except Exception as error:
            self.errors.append(f"raw zone delivery stopped: {error}")

    def _pipeline(self) -> None:
        if self.options.pipeline_every_s <= 0:
            return
        from glucosestream.local.pipeline_runner import run_pipeline

        while not self.stop.wait(self.options.pipeline_every_s):
            # The live cohort's clock runs `speed` times faster than the wall clock: its "now"
            # (the latest arrival published) is the pipeline's now, or every new reading would
            # look like it came from the future.
            simulated_now = max(self.latest_arrival_ms, int(time.time() * 1000))
            try:
                run = run_pipeline(
                    self.settings, as_of=datetime.fromtimestamp(simulated_now / 1000, tz=UTC)
                )
            except Exception as error:
                self.errors.append(f"pipeline run failed to start: {error}")
                continue
            self.messages.append(pipeline_line(run.execution.status, run.last_state))

    def _consume(self) -> None:
        try:
            self.mapping.run(self.stop)
        except Exception as error:
            self.errors.append(f"alerts consumer stopped: {error}")

    def watch(self) -> None:
        started = time.monotonic()
        next_health = started + self.options.health_every_s
        kinds: Counter[str] = Counter()
        while True:
            if self.options.duration_s is not None and (
                time.monotonic() - started >= self.options.duration_s
            ):
                return
            for alert in self._receive():
                kinds[alert["kind"]] += 1
                print(format_alert(alert), flush=True)
            while self.errors:
                print(f"ERROR: {self.errors.pop(0)}", flush=True)
            while self.messages:
                print(self.messages.pop(0), flush=True)
            if time.monotonic() >= next_health:
                next_health += self.options.health_every_s
                stats = self.mapping.stats
                lag = max(stats.millis_behind_latest.values(), default=0)
                landed = self.firehose.stats
                print(
                    f"health: published {self.published}, consumed {stats.records_succeeded}, "
                    f"consumer lag {lag / 1000:.1f} s, alerts {sum(kinds.values())} "
                    f"{dict(kinds)}, discarded {stats.records_discarded}; raw zone "
                    f"{landed.rows_landed} rows + {landed.errors_landed} errors in "
                    f"{landed.files_written} files",
                    flush=True,
                )

    def _receive(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.feed_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        alerts = []
        for message in response.get("Messages", []):
            alerts.append(json.loads(message["Body"]))
            self.sqs.delete_message(QueueUrl=self.feed_url, ReceiptHandle=message["ReceiptHandle"])
        return alerts


def pipeline_line(status: str, state: dict[str, Any]) -> str:
    curated = state.get("curate", {})
    quality = state.get("quality", {})
    marts = state.get("marts", {})
    verdict = (
        "passed"
        if quality.get("passed")
        else ("FAILED: " + ", ".join(f["check"] for f in quality.get("failed", [])))
    )
    return (
        f"pipeline: {status}; curated {curated.get('curated_rows', 0)} rows in "
        f"{len(curated.get('curated_partitions', []))} partitions; data quality {verdict}; "
        f"marts: {marts.get('daily_rows', 0)} daily rows, period ending "
        f"{marts.get('period_end') or '-'}"
    )


def format_alert(alert: dict[str, Any]) -> str:
    at = datetime.fromtimestamp(
        (alert["measured_at"] + alert["utc_offset_minutes"] * 60_000) / 1000, tz=UTC
    ).strftime("%a %H:%M")
    extra = ""
    if alert.get("projected_mg_dl") is not None:
        extra = (
            f" (falling {alert['rate_mg_dl_per_min']:+.1f} mg/dL/min, "
            f"{alert['projected_mg_dl']:.0f} in 20 min)"
        )
    return (
        f"ALERT {alert['kind']:<15} {alert['severity']:<8} {alert['patient_id'][:14]}… "
        f"{alert['glucose_mg_dl']:>3} mg/dL at {at} local{extra}"
    )


def stream_and_verify(settings: Settings, options: DemoOptions) -> bool:
    """Publish a simulated cohort, read it back from the stream's tip, compare. True if equal."""
    stream = KinesisStream(aws_client("kinesis", settings), settings.names.readings_stream)
    shard_ids = stream.shard_ids()
    tips = {shard_id: stream.shard_iterator(shard_id, latest=True) for shard_id in shard_ids}

    config = CohortConfig(
        patients=options.patients,
        days=options.days,
        seed=options.seed,
        pseudonym_key=settings.pseudonym_key_bytes,
    )
    readings = [delivery.reading for delivery in simulate(config)]
    started = time.perf_counter()
    report = Producer(stream).publish(readings)
    publish_s = time.perf_counter() - started
    print(
        f"published {report.sent} readings of {options.patients} simulated patients "
        f"({options.days:g} days) in {publish_s:.2f} s with {report.put_calls} PutRecords calls",
        flush=True,
    )

    started = time.perf_counter()
    codec = default_codec()
    received: dict[str, list[str]] = defaultdict(list)
    for shard_id, iterator in tips.items():
        for record in stream.read_from(shard_id, iterator):
            decoded = codec.decode(record.data)
            received[decoded["patient_id"]].append(decoded["event_id"])
    read_s = time.perf_counter() - started
    sent: dict[str, list[str]] = defaultdict(list)
    for reading in readings:
        sent[reading.patient_id].append(reading.event_id)

    got = sum(len(ids) for ids in received.values())
    missing = Counter(e for ids in sent.values() for e in ids) - Counter(
        e for ids in received.values() for e in ids
    )
    print(f"read back {got} readings from {len(shard_ids)} shards in {read_s:.2f} s", flush=True)
    if missing or got != len(readings):
        print(f"MISMATCH: {sum(missing.values())} readings missing, {got - len(readings)} extra")
        return False
    if received != sent:
        print("MISMATCH: per-patient order differs from the order sent")
        return False
    print("check: every reading came back once, in per-patient order", flush=True)
    return True
