"""``glucosestream demo`` — what ``make run`` runs: the main job on one machine.

1. Brings the local stack up (Kinesis, DynamoDB, SNS, SQS on 127.0.0.1).
2. **Backfill**: publishes ``days`` (default 14) of a simulated cohort (type 1, type 2 and no
   diabetes) ending now, and reads it back from the stream (every reading once, per-patient order
   kept). Done once: the state in ``<state>/demo.json`` makes a second run resume instead.
3. **Consumers as separate processes** (:mod:`glucosestream.local.workers`): the alerts Lambda
   behind the event-source mapping, the Firehose worker landing the raw zone, and the Step
   Functions pipeline every ``pipeline_every_s``. A worker that dies is restarted and resumes
   from its checkpoints.
4. **Live**: the same cohort streams on at an accelerated clock (``speed``); each alert is
   printed as it reaches the SQS queue subscribed to the alerts topic, with a one-line health
   summary every ``health_every_s``.

Ctrl-C or SIGTERM stops the producer first, lets the consumers drain, stops every process it
started and saves where the simulated clock got to.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import takewhile
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.adapters.sqs_queue import SqsQueue
from glucosestream.cli.run_totals import RunTotals
from glucosestream.contract.alert_message import NotAnAlert, alert_of_message
from glucosestream.contract.codec import default_codec
from glucosestream.domain.alerts import Alert, AlertKind
from glucosestream.local import stack
from glucosestream.local.processes import last_lines
from glucosestream.local.workers import (
    WorkerProcess,
    read_json,
    set_simulated_now,
    stats_file,
    write_json,
)
from glucosestream.settings import Settings
from stream.publishing import publish_deliveries
from stream.simulator import CohortConfig, Delivery, simulate

if TYPE_CHECKING:
    from glucosestream.dashboard.server import DashboardServer
    from glucosestream.local.apigateway import ApiServer

DAY_MS = 86_400_000
DRAIN_S = 3.0
"""On shutdown, the least time the consumers get to catch up with the last readings published."""
DRAIN_QUIET_S = 5.0
"""On shutdown, a consumer that has read nothing more for this long has caught up."""
DRAIN_LIMIT_S = {"lambda": 30.0, "kcl": 240.0}
"""On shutdown, the most time the alerts consumer gets to read everything the run published
(the KCL's first lease takes 1.5-2 minutes after its start on the local stack)."""
FIREHOSE_BUFFER_S = 10.0
"""Firehose buffers up to 60 s or 64 MiB; 10 s makes the lake fill visibly in a demo."""


@dataclass(frozen=True)
class DemoOptions:
    patients: int = 50
    days: float = 14.0
    """Backfill: days of readings published before the live stream starts."""
    seed: int = 1
    speed: float = 120.0
    """Live stream: simulated seconds per wall second."""
    duration_s: float | None = None
    """Seconds to run the live part; None = until Ctrl-C / SIGTERM."""
    health_every_s: float = 10.0
    pipeline_every_s: float = 60.0
    """How often the ELT pipeline (Step Functions ASL, run locally) runs; 0 = never."""
    dashboard_port: int = 5006
    """Where the Bokeh dashboard is served on 127.0.0.1; 0 = not served."""
    api_port: int | None = None
    """Where the ingest API is served on 127.0.0.1 (None: GS_INGEST_PORT); 0 = not served."""
    consumer: str = "lambda"
    """The alerts consumer: ``lambda`` (the handler behind the event-source mapping) or ``kcl``
    (the KCL application: worker ``alerts-kcl``)."""

    @property
    def consumer_worker(self) -> str:
        return "alerts-kcl" if self.consumer == "kcl" else "alerts"


class _Stop(BaseException):
    """Raised by the signal handler. A BaseException, like KeyboardInterrupt: botocore retries
    on any Exception raised during a request, which would swallow the stop."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def demo_state_file(settings: Settings) -> Path:
    return settings.state_dir / "demo.json"


@dataclass
class DemoState:
    """What a previous run left: the cohort it simulated and where its clock got to."""

    patients: int
    seed: int
    backfill_days: float
    backfill_published: int
    sim_now_ms: int
    live_published: int = 0
    """Readings the live streams of every run so far published."""
    backfill_start_ms: int | None = None
    """Where the simulation began: the live stream continues the same simulated patients from
    where the backfill ended (None: a state file from before this was kept)."""
    backfill_end_ms: int | None = None

    @classmethod
    def load(cls, settings: Settings) -> DemoState | None:
        values = read_json(demo_state_file(settings))
        return cls(**values) if values else None

    def save(self, settings: Settings) -> None:
        write_json(demo_state_file(settings), asdict(self))


def run_demo(settings: Settings, options: DemoOptions) -> int:
    if options.consumer == "kcl":
        from glucosestream.local.kcl import required_binaries

        required_binaries()  # missing Java or nghttpx: say so before anything starts
    # Installed explicitly: a process started in the background inherits SIGINT ignored, and
    # Python then never raises KeyboardInterrupt.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    ours = not stack.status(settings).running
    live: LiveDemo | None = None
    backfilled = 0
    dashboard: DashboardServer | None = None
    api: ApiServer | None = None
    try:
        status = stack.up(settings)
        print(
            "local stack:", ", ".join(f"{k} {v}" for k, v in status.endpoints.items()), flush=True
        )
        state = DemoState.load(settings)
        if state is not None and (state.patients, state.seed) != (options.patients, options.seed):
            print(
                f"glucosestream: error: {settings.state_dir} holds a demo of {state.patients} "
                f"patients (seed {state.seed}); run with --patients {state.patients} --seed "
                f"{state.seed} to resume it, or `make clean` to start afresh",
                file=sys.stderr,
            )
            return 2
        if state is None:
            state = backfill(settings, options)
            if state is None:
                return 1
            backfilled = state.backfill_published
        else:
            print(
                f"resuming: {state.patients} patients, backfill of {state.backfill_days:g} days "
                f"already published; simulated clock at {_clock(state.sim_now_ms)}",
                flush=True,
            )
        live = LiveDemo(settings, options, state)
        if options.dashboard_port:
            # Before the live stream starts: the dashboard's live view tails the stream's tip.
            dashboard = start_dashboard(settings, options.dashboard_port)
        if options.api_port != 0:
            from glucosestream.local.apigateway import start_api

            api = start_api(settings, options.api_port)
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
        if api is not None:
            api.stop()
        if dashboard is not None:
            dashboard.stop()
        if live is not None:
            from_api = api.service.published_readings if api is not None else 0
            live.shut_down(backfilled + from_api)
            print(live.summary_line(backfilled, from_api), flush=True)
        if ours:
            stopped_names = stack.down(settings)
            print(f"stopped {', '.join(stopped_names) or 'nothing'}", flush=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_dashboard(settings: Settings, port: int) -> DashboardServer | None:
    """The dashboard on 127.0.0.1:port, or None (with the reason printed) if it cannot start."""
    from glucosestream.dashboard.server import serve_dashboard

    try:
        server = serve_dashboard(settings, port, alerts_queue=settings.names.dashboard_alerts_queue)
    except (RuntimeError, OSError) as error:
        print(f"dashboard not served: {error}", flush=True)
        return None
    print(f"dashboard: {server.url} (report, cohort triage, privacy mode, live view)", flush=True)
    return server


def _clock(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def backfill(settings: Settings, options: DemoOptions) -> DemoState | None:
    """Publish the cohort's last ``days`` and check it came back; None if it did not."""
    now_ms = int(time.time() * 1000)
    now_ms -= now_ms % 60_000
    config = CohortConfig(
        patients=options.patients,
        days=options.days,
        seed=options.seed,
        start_ms=now_ms - round(options.days * DAY_MS),
        pseudonym_key=settings.pseudonym_key_bytes,
    )
    published = stream_and_verify(settings, config)
    if published is None:
        return None
    state = DemoState(
        options.patients,
        options.seed,
        options.days,
        published,
        now_ms,
        backfill_start_ms=config.start_ms,
        backfill_end_ms=now_ms,
    )
    state.save(settings)
    return state


def live_cohort(
    options: DemoOptions, state: DemoState, sim_start_ms: int, pseudonym_key: bytes
) -> tuple[CohortConfig, Callable[[Delivery], bool]]:
    """The simulation the live stream publishes from ``sim_start_ms``, and which of its
    deliveries are new.

    The backfill's simulation, continued: the simulator is prefix-stable (the same seed gives
    the same readings whatever the length), so running it from the backfill's start and
    skipping what was already published gives each patient one continuous trace. Starting a
    fresh simulation at the backfill's end instead joined two unrelated traces, a step of tens
    of mg/dL in minutes that the alert forecast read as a fall (issue 17).
    """
    start, end = state.backfill_start_ms, state.backfill_end_ms
    if start is None or end is None:  # a state file from before the continuation
        fresh = CohortConfig(
            patients=options.patients,
            days=365,
            seed=options.seed,
            start_ms=sim_start_ms,
            pseudonym_key=pseudonym_key,
        )
        return fresh, lambda _: True
    continued = CohortConfig(
        patients=options.patients,
        days=365 + (sim_start_ms - start) / DAY_MS,
        seed=options.seed,
        start_ms=start,
        pseudonym_key=pseudonym_key,
    )
    return continued, lambda d: d.reading.measured_at >= end and d.arrival_at >= sim_start_ms


class LiveDemo:
    """The live part: the consumer processes, the publisher thread, and the console."""

    def __init__(self, settings: Settings, options: DemoOptions, state: DemoState) -> None:
        self.settings = settings
        self.options = options
        self.state = state
        self.stop_publishing = threading.Event()
        now_ms = int(time.time() * 1000)
        # Resume where the simulated clock got to (it runs ahead of the wall clock).
        self.sim_start_ms = max(now_ms - now_ms % 60_000, state.sim_now_ms + 60_000)
        self.latest_arrival_ms = self.sim_start_ms
        set_simulated_now(settings, self.latest_arrival_ms)
        self.publisher: threading.Thread | None = None
        self.published = 0
        self.errors: list[str] = []
        self.consumer = options.consumer_worker
        self.workers = [
            WorkerProcess(self.consumer, [], settings),
            WorkerProcess("firehose", ["--buffer-seconds", str(FIREHOSE_BUFFER_S)], settings),
        ]
        if options.pipeline_every_s > 0:
            self.workers.append(
                WorkerProcess("pipeline", ["--every", str(options.pipeline_every_s)], settings)
            )
        self.feed = SqsQueue(aws_client("sqs", settings), settings.names.alerts_feed_queue)
        self.feed.url  # noqa: B018 - a missing queue fails here, before anything starts
        self.last_pipeline_run = ""
        self.totals = RunTotals(datetime.now(UTC).isoformat())
        self.kinds: Counter[str] = Counter()
        """Alerts this run's console received, by kind."""

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        print("workers: " + ", ".join(f"{w.name} (log {w.log})" for w in self.workers), flush=True)
        self.publisher = threading.Thread(target=self._publish, name="publisher", daemon=True)
        self.publisher.start()

    def shut_down(self, published_elsewhere: int = 0) -> None:
        """Producer first, then give the consumers time to take what the run sent (its own
        publisher's readings and ``published_elsewhere``: the backfill, the ingest API), then
        them: a clean stop leaves nothing in the stream that the next run would have to
        deliver."""
        self.stop_publishing.set()
        if self.publisher is not None:
            self.publisher.join(timeout=30)
        self._drain(published_elsewhere + self.published)
        for worker in self.workers:
            worker.stop()
        self._observe()  # the workers' final reports of a clean stop
        self._show_alerts()  # alerts raised while draining
        self._show_errors()
        self.state.sim_now_ms = self.latest_arrival_ms
        self.state.live_published += self.published
        self.state.save(self.settings)

    def _drain(self, published: int) -> None:
        """Wait until the alerts consumer has read ``published`` records, or has read some and
        then nothing for a few seconds (it is idle: what a killed worker read in its last second
        is in no report), at most the drain limit of its kind. A consumer that did not catch up
        shows in the summary line."""
        limit = DRAIN_LIMIT_S[self.options.consumer]
        deadline = time.monotonic() + limit
        time.sleep(DRAIN_S)
        announced = False
        last_read, changed_at = -1, time.monotonic()
        while True:
            self._observe()
            read = self.totals.total(self.consumer, "records_succeeded")
            now = time.monotonic()
            if read != last_read:
                last_read, changed_at = read, now
            idle = read > 0 and now - changed_at >= DRAIN_QUIET_S
            if read >= published or idle or now >= deadline:
                return
            if not announced:
                print(
                    f"waiting for the alerts consumer to read what this run published ({read} "
                    f"of {published}; at most {limit:.0f} s)",
                    flush=True,
                )
                announced = True
            time.sleep(1)

    def _publish(self) -> None:
        config, is_new = live_cohort(
            self.options, self.state, self.sim_start_ms, self.settings.pseudonym_key_bytes
        )
        stream = readings_stream(self.settings)
        deliveries = self._tracked(
            takewhile(lambda _: not self.stop_publishing.is_set(), filter(is_new, simulate(config)))
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

    def _observe(self) -> None:
        for worker in self.workers:
            self.totals.observe(worker.name, read_json(stats_file(self.settings, worker.name)))

    def summary_line(self, backfilled: int, from_api: int = 0) -> str:
        """The run's totals (every worker process of this run, restarts included): with
        nothing lost, the alerts consumer read and the raw zone landed what was published —
        by the demo's publisher and through its ingest API."""
        published = backfilled + self.published + from_api
        line = (
            f"summary: published {published}, alerts consumer read "
            f"{self.totals.total(self.consumer, 'records_succeeded')}, raw zone landed "
            f"{self.totals.total('firehose', 'rows_landed')}, alerts {sum(self.kinds.values())}"
        )
        if from_api:
            line += f" (published includes {from_api} through the ingest API)"
        return line

    def _supervise(self) -> None:
        self._observe()
        for worker in self.workers:
            code = worker.exited()
            if code is not None:
                worker.restarts += 1
                print(
                    f"worker {worker.name} exited with status {code} "
                    f"({last_lines(worker.log, 1)}); restarting it",
                    flush=True,
                )
                worker.start()

    def watch(self) -> None:
        started = time.monotonic()
        next_health = started + self.options.health_every_s
        next_clock = started
        kinds = self.kinds
        while True:
            now = time.monotonic()
            if self.options.duration_s is not None and now - started >= self.options.duration_s:
                return
            if now >= next_clock:
                next_clock = now + 1.0
                set_simulated_now(self.settings, self.latest_arrival_ms)
                self._supervise()
            self._show_alerts()
            self._show_errors()
            pipeline = read_json(stats_file(self.settings, "pipeline"))
            if pipeline.get("last_line") and pipeline.get("last_run_id") != self.last_pipeline_run:
                self.last_pipeline_run = pipeline["last_run_id"]
                print(pipeline["last_line"], flush=True)
            if now >= next_health:
                next_health += self.options.health_every_s
                print(self.health_line(kinds, pipeline), flush=True)

    def health_line(self, kinds: Counter[str], pipeline: dict[str, Any]) -> str:
        alerts = read_json(stats_file(self.settings, self.consumer))
        landed = read_json(stats_file(self.settings, "firehose"))
        lag = max((alerts.get("millis_behind_latest") or {}).values(), default=0)
        last_run = (
            f"{pipeline['last_status']} at {pipeline['last_finished_at'][11:19]} UTC"
            if pipeline.get("last_status")
            else "none yet"
        )
        total = self.state.backfill_published + self.state.live_published + self.published
        return (
            f"health: published {total} (this run {self.published}), "
            f"consumed {alerts.get('records_succeeded', 0)}, "
            f"consumer lag {lag / 1000:.1f} s, alerts {sum(kinds.values())} {dict(kinds)}, "
            f"discarded {alerts.get('records_discarded', 0)}; raw zone "
            f"{landed.get('rows_landed', 0)} rows + {landed.get('errors_landed', 0)} errors in "
            f"{landed.get('files_written', 0)} files; last pipeline run {last_run}; simulated "
            f"clock {_clock(self.latest_arrival_ms)}"
        )

    def _show_alerts(self) -> None:
        """Prints the alerts the feed holds and deletes them. A message that is not an alert
        of the contract is reported as an error and deleted too: the feed only shows alerts
        (the patients' state and the topic's other subscribers keep them), and a message that
        cannot be shown now never can be — left undeleted, it would come back every
        visibility timeout, and it stopped the console before."""
        messages = self.feed.receive(wait_s=1)
        for message in messages:
            try:
                alert = alert_of_message(message.body)
            except NotAnAlert as error:
                self.errors.append(
                    f"alerts feed: a message that is not an alert ({error}), deleted: "
                    f"{message.body[:120]!r}"
                )
                continue
            self.kinds[alert.kind.value] += 1
            print(format_alert(alert), flush=True)
        self.feed.delete_many(messages)

    def _show_errors(self) -> None:
        while self.errors:
            print(f"ERROR: {self.errors.pop(0)}", flush=True)


def format_alert(alert: Alert) -> str:
    at = datetime.fromtimestamp(
        (alert.measured_at + alert.utc_offset_minutes * 60_000) / 1000, tz=UTC
    ).strftime("%a %H:%M")
    extra = ""
    if alert.projected_mg_dl is not None and alert.rate_mg_dl_per_min is not None:
        extra = (
            f" (falling {alert.rate_mg_dl_per_min:+.1f} mg/dL/min, "
            f"{alert.projected_mg_dl:.0f} in 20 min)"
        )
    if alert.repeat:
        extra += f" repeat #{alert.repeat}, unacknowledged"
    if alert.kind is AlertKind.URGENT_LOW:
        extra += f" id {alert.alert_id}"  # what `alerts ack` and the API take
    if alert.silenced:
        extra += " [silenced: quiet hours]"
    return (
        f"ALERT {alert.kind.value:<15} {alert.severity.value:<8} {alert.patient_id[:14]}… "
        f"{alert.glucose_mg_dl:>3} mg/dL at {at} local{extra}"
    )


def stream_and_verify(settings: Settings, config: CohortConfig) -> int | None:
    """Publish a simulated cohort, read it back from the stream's tip, compare. Returns the
    number published, or None when something is missing, extra or out of per-patient order."""
    stream = readings_stream(settings)
    shard_ids = stream.shard_ids()
    tips = {shard_id: stream.shard_iterator(shard_id, latest=True) for shard_id in shard_ids}

    readings = [delivery.reading for delivery in simulate(config)]
    started = time.perf_counter()
    report = Producer(stream).publish(readings)
    publish_s = time.perf_counter() - started
    print(
        f"published {report.sent} readings of {config.patients} simulated patients "
        f"({config.days:g} days, backfill) in {publish_s:.2f} s with {report.put_calls} "
        "PutRecords calls",
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
        return None
    if received != sent:
        print("MISMATCH: per-patient order differs from the order sent")
        return None
    print("check: every reading came back once, in per-patient order", flush=True)
    return report.sent
