"""A fault scenario on the local stack: the worker processes, a simulated cohort streaming in,
faults injected, then the books balanced.

The checks, whatever the faults:

* **raw zone** — every reading identity put to the stream lands in ``raw/`` (at least once: a
  worker killed after writing a file and before checkpointing writes it again), every
  undecodable record lands in ``errors/``, and nothing else lands;
* **curated** — after the pipeline, one row per identity, none missing;
* **alerts** — the alerts that reached the SQS queue subscribed to the alerts topic against
  ``replay`` (the engine one reading at a time, in arrival order) over the readings as the
  stream holds them: for a patient whose readings the stream holds in measured order, the same
  alert ids; for a patient whose readings it reordered (a producer retry lands after later
  readings; an uploader reorders), the README's guarantee against the *in-order* run: each of
  its pages has a delivered page of its patient and kind within the staleness bound of its
  episode start (``alerts_within_bound`` counts those matched so rather than by id). For
  everyone: no patient and kind pages twice within the bound. Repeated messages of one alert id
  are counted (at-least-once delivery: a kill between the SNS publish and the outbox clear sends
  it again).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.contract.records import UndecodableRecord, decode_record
from glucosestream.domain.alerts import AlertConfig, AlertReading, PatientAlertState, evaluate
from glucosestream.domain.alerts.eligibility import NOT_FOR_ALERTS
from glucosestream.domain.alerts.replay import replay
from glucosestream.domain.reading import GlucoseReading
from glucosestream.lake.raw_zone.files import count_raw_zone
from glucosestream.local import stack
from glucosestream.local.esm import CheckpointStore
from glucosestream.local.pipeline_runner import run_pipeline
from glucosestream.local.workers import WorkerProcess, set_simulated_now
from glucosestream.settings import Settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class ScenarioReport:
    scenario: str
    records_in_stream: int = 0
    readings_in: int = 0
    """Distinct reading identities put to the stream."""
    undecodable_in: int = 0
    raw_rows: int = 0
    raw_identities: int = 0
    quarantined: int = 0
    curated_rows: int = 0
    curated_identities: int = 0
    alerts_expected: int = 0
    alerts_delivered: int = 0
    alerts_within_bound: int = 0
    """Pages matched by the reordering guarantee rather than by identical alert id."""
    reordered_patients: int = 0
    """Patients whose readings the stream holds out of measured order."""
    alert_messages: int = 0
    doubled_alerts: list[str] = field(default_factory=list)
    kills: dict[str, int] = field(default_factory=dict)
    producer_retries: int = 0
    missing_from_raw: list[str] = field(default_factory=list)
    missing_alerts: list[str] = field(default_factory=list)
    unexpected_alerts: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return (
            not self.missing_from_raw
            and self.raw_identities == self.readings_in
            and self.quarantined == self.undecodable_in
            and self.curated_rows == self.curated_identities == self.readings_in
            and not self.missing_alerts
            and not self.unexpected_alerts
            and not self.doubled_alerts
        )

    def line(self) -> str:
        return (
            f"{self.scenario}: in {self.readings_in} readings (+{self.undecodable_in} garbage) "
            f"/ raw {self.raw_rows} rows, {self.raw_identities} identities / quarantined "
            f"{self.quarantined} / curated {self.curated_rows} / alerts {self.alerts_delivered} "
            f"of {self.alerts_expected} expected ({self.alerts_within_bound} within the "
            f"reordering bound, {self.alert_messages} messages) / kills "
            f"{self.kills or '-'} -> {'BALANCED' if self.balanced else 'NOT BALANCED'}"
        )

    def save(self) -> None:
        self.save_extra({})

    def save_extra(self, extra: dict[str, Any]) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        document = {**asdict(self), "balanced": self.balanced, **extra}
        (ARTIFACTS / f"faults-{self.scenario}.json").write_text(json.dumps(document, indent=2))


class Scenario:
    """The local stack (already up) with the three worker processes."""

    def __init__(self, settings: Settings, name: str, *, seed: int = 7) -> None:
        self.settings = settings
        self.report = ScenarioReport(name)
        self.rng = random.Random(seed)
        self.workers = {
            "alerts": WorkerProcess("alerts", [], settings),
            "firehose": WorkerProcess("firehose", ["--buffer-seconds", "1"], settings),
            "pipeline": WorkerProcess("pipeline", ["--every", "2"], settings),
        }
        self.stream = readings_stream(settings)
        self.producer_done = threading.Event()
        self.producer_error: BaseException | None = None

    def __enter__(self) -> Scenario:
        # The cohorts are measured from now on, faster than real time: the pipeline's "now"
        # (the future-timestamp check) is after all of it, as the demo's simulated clock is.
        set_simulated_now(self.settings, int(_far_future().timestamp() * 1000))
        for worker in self.workers.values():
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers.values():
            worker.stop(timeout_s=30)

    # ------------------------------------------------------------------------------ input

    def publish_in_background(
        self, batches: Iterable[list[GlucoseReading]], pause_s: float = 0.05
    ) -> threading.Thread:
        """Put the batches one after another (a live uploader), in a thread."""
        producer = Producer(self.stream, give_up_after_s=120)

        def run() -> None:
            try:
                for batch in batches:
                    report = producer.publish(batch)
                    self.report.producer_retries += report.retried_entries
                    time.sleep(pause_s)
            except BaseException as error:  # reported by wait_for_producer
                self.producer_error = error
            finally:
                self.producer_done.set()

        thread = threading.Thread(target=run, name="producer", daemon=True)
        thread.start()
        return thread

    def put_garbage(self, count: int, partition_key: str = "garbage-device") -> None:
        """Records no decoder accepts (a device sending junk)."""
        entries = [
            {"Data": b"\x00garbage " + bytes([i % 256]) * 20, "PartitionKey": partition_key}
            for i in range(count)
        ]
        self.stream.client.put_records(StreamName=self.stream.name, Records=entries)

    # ------------------------------------------------------------------------------ faults

    def kill(self, name: str, down_s: float = 0.5) -> None:
        """kill -9 a worker, leave it dead a moment, start it again (it resumes)."""
        self.workers[name].kill()
        self.report.kills[name] = self.report.kills.get(name, 0) + 1
        time.sleep(down_s)
        self.workers[name].start()

    def chaos_until_published(self, names: list[str], every_s: tuple[float, float]) -> None:
        """Kill random workers at random moments while the producer runs."""
        while not self.producer_done.wait(self.rng.uniform(*every_s)):
            self.kill(self.rng.choice(names), down_s=self.rng.uniform(0.1, 1.0))

    def wait_for_producer(self, timeout_s: float = 180) -> None:
        assert self.producer_done.wait(timeout_s), "the producer did not finish"
        if self.producer_error is not None:
            raise AssertionError(f"the producer failed: {self.producer_error}")

    # ------------------------------------------------------------------------------ drain

    def drain(self, timeout_s: float = 120) -> None:
        """Until the alerts consumer has checkpointed every shard's last record and the raw
        zone holds every record (the workers keep running). Called once the producer is done,
        so the stream's tips and size are read once."""
        checkpoints = CheckpointStore(self.settings.state_dir / "esm" / "alerts")
        tips = {s: self._last_sequence(s) for s in self.stream.shard_ids()}
        in_stream = sum(1 for _ in self.stream_items())
        deadline = time.monotonic() + timeout_s
        while True:
            consumed = all(
                tip is None or int(checkpoints.load(s) or 0) >= int(tip) for s, tip in tips.items()
            )
            counts = count_raw_zone(self.settings.lake_dir)
            landed = counts.raw_rows + counts.error_records >= in_stream
            if consumed and landed:
                return
            for worker in self.workers.values():
                assert worker.exited() is None, f"worker {worker.name} died: see {worker.log}"
            assert time.monotonic() < deadline, f"not drained: consumed={consumed} landed={landed}"
            time.sleep(0.5)

    def _last_sequence(self, shard_id: str) -> str | None:
        records = self.stream.read_available(shard_id)
        return records[-1].sequence_number if records else None

    def stream_items(self) -> Iterable[tuple[int, GlucoseReading | None]]:
        """(arrival ms, reading or None when undecodable) for every user record in the stream."""
        for shard_id in self.stream.shard_ids():
            for record in self.stream.read_available(shard_id):
                try:
                    readings: list[GlucoseReading | None] = list(
                        decode_record(record.data, record.partition_key)
                    )
                except UndecodableRecord:
                    readings = [None]
                for reading in readings:
                    yield record.arrival_ms, reading

    # ------------------------------------------------------------------------------ pipeline

    def wait_for_pipeline(
        self, status: str, after_run: str | None = None, timeout_s: float = 90
    ) -> str:
        """The id of the pipeline worker's first run (after ``after_run``) that ended so."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            runs = _pipeline_runs(self.settings.lake_dir)
            seen_after = after_run is None
            for run_id, run_status in runs:
                if seen_after and run_status == status:
                    return run_id
                seen_after = seen_after or run_id == after_run
            time.sleep(0.5)
        raise AssertionError(f"no pipeline run ended {status} in {timeout_s} s")

    def marts_snapshot(self) -> dict[str, bytes]:
        root = self.settings.lake_dir / self.settings.names.marts_prefix
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*.parquet"))
            if p.relative_to(root).parts[0] not in ("dq_results", "pipeline_runs")
        }

    def pipeline_notifications(self) -> list[str]:
        sqs = aws_client("sqs", self.settings)
        url = sqs.get_queue_url(QueueName=self.settings.names.pipeline_feed_queue)["QueueUrl"]
        found = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            if not got.get("Messages"):
                return found
            found.extend(m["Body"] for m in got["Messages"])

    # ------------------------------------------------------------------------------ books

    def settle(self) -> ScenarioReport:
        """Stop the workers, run the pipeline once more, and balance the books."""
        for worker in self.workers.values():
            worker.stop(timeout_s=30)
        items = list(self.stream_items())
        readings = [(arrival, r) for arrival, r in items if r is not None]
        report = self.report
        report.records_in_stream = len(items)
        identities = {_identity(r) for _, r in readings}
        report.readings_in = len(identities)
        report.undecodable_in = sum(1 for _, r in items if r is None)

        run = run_pipeline(self.settings, as_of=_far_future())
        assert run.execution.status == "SUCCEEDED", run.execution.cause

        lake = self.settings.lake_dir
        raw = _identities(lake / "raw" / "readings", depth=2)
        report.raw_rows = sum(raw.values())
        report.raw_identities = len(raw)
        report.missing_from_raw = sorted(identities - set(raw))[:5]
        report.quarantined = count_raw_zone(lake).error_records
        curated = _identities(lake / "curated" / "readings", depth=1)
        report.curated_rows = sum(curated.values())
        report.curated_identities = len(curated)

        alerting = [(a, r) for a, r in readings if r.status not in NOT_FOR_ALERTS]
        reordered = _reordered_patients(alerting)
        in_order = [(a, r) for a, r in alerting if r.patient_id not in reordered]
        # Patients whose readings the stream kept in order: exactly the replay's alerts.
        expected = {
            a.alert_id: a.to_record()
            for a in replay((r.patient_id, _alert_reading(r, arrival)) for arrival, r in in_order)
        }
        # Patients whose readings it reordered (a producer retry lands after later readings):
        # the README's guarantee against the in-order run — each of its pages has a delivered
        # page of its kind within the bound; no kind doubled (checked for everyone below).
        reference = _in_order_run([(a, r) for a, r in alerting if r.patient_id in reordered])
        report.reordered_patients = len(reordered)
        messages = self.alert_messages()
        delivered = {m["alert_id"]: m for m in messages}
        report.alerts_expected = len(expected) + len(reference)
        report.alerts_delivered = len(delivered)
        report.alert_messages = len(messages)
        ordered_delivered = {i: m for i, m in delivered.items() if m["patient_id"] not in reordered}
        missing = [expected[i] for i in sorted(set(expected) - set(ordered_delivered))]
        unexpected = [ordered_delivered[i] for i in sorted(set(ordered_delivered) - set(expected))]
        reordered_delivered = [m for m in delivered.values() if m["patient_id"] in reordered]
        for page in reference:
            if page["alert_id"] in delivered:
                continue
            if any(_within_bound(page, other) for other in reordered_delivered):
                report.alerts_within_bound += 1
            else:
                missing.append(page)
        report.missing_alerts = [m["alert_id"] for m in missing]
        report.unexpected_alerts = [u["alert_id"] for u in unexpected]
        report.doubled_alerts = _doubled(list(delivered.values()))
        report.save()
        print(report.line())
        return report

    def alert_messages(self) -> list[dict[str, Any]]:
        sqs = aws_client("sqs", self.settings)
        url = sqs.get_queue_url(QueueName=self.settings.names.alerts_feed_queue)["QueueUrl"]
        found: list[dict[str, Any]] = []
        empty_polls = 0
        while empty_polls < 2:
            response = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=300
            )
            messages = response.get("Messages", [])
            empty_polls = 0 if messages else empty_polls + 1
            found.extend(json.loads(m["Body"]) for m in messages)
        return found


BOUND_MS = 15 * 60_000
"""The staleness bound (settings.alert_staleness_minutes): the reach of reordering."""


def _within_bound(page: dict[str, Any], other: dict[str, Any]) -> bool:
    return (
        page["patient_id"] == other["patient_id"]
        and page["kind"] == other["kind"]
        and abs(page["episode_start"] - other["episode_start"]) <= BOUND_MS
    )


def _doubled(pages: list[dict[str, Any]]) -> list[str]:
    """Alert ids of pages of one patient and kind within the bound of another (distinct ids)."""
    found = []
    for index, page in enumerate(pages):
        if any(_within_bound(page, other) for other in pages[index + 1 :]):
            found.append(page["alert_id"])
    return found


def _reordered_patients(readings: list[tuple[int, GlucoseReading]]) -> set[str]:
    """Patients with a reading the stream holds after a reading measured later (stream order,
    which is arrival order per shard; exact duplicates aside)."""
    latest: dict[str, int] = {}
    found = set()
    for _, reading in readings:
        previous = latest.get(reading.patient_id)
        if previous is not None and reading.measured_at < previous:
            found.add(reading.patient_id)
        latest[reading.patient_id] = max(previous or 0, reading.measured_at)
    return found


def _in_order_run(readings: list[tuple[int, GlucoseReading]]) -> list[dict[str, Any]]:
    """The engine over each patient's distinct readings in measured order, each evaluated at
    its own arrival (so late uploads stay late): the README's reference for reordered streams."""
    config = AlertConfig()
    states: dict[str, PatientAlertState] = defaultdict(PatientAlertState)
    seen = set()
    pages = []
    for arrival, reading in sorted(readings, key=lambda pair: pair[1].measured_at):
        if _identity(reading) in seen:
            continue
        seen.add(_identity(reading))
        evaluation = evaluate(
            states[reading.patient_id],
            reading.patient_id,
            [_alert_reading(reading, arrival)],
            arrival,
            config,
        )
        pages.extend(alert.to_record() for alert in evaluation.alerts)
    return pages


def _identity(reading: GlucoseReading) -> str:
    return f"{reading.patient_id}|{reading.device_id}|{reading.measured_at}"


def _identities(root: Path, depth: int) -> Counter[str]:
    """Identity counts of a table's partitions (``depth`` partition levels), as the table reads
    them: a killed run's leftover ``.staging-*`` directory beside them is not the table."""
    pattern = "/".join(["*=*"] * depth + ["*.parquet"])
    if next(root.glob(pattern), None) is None:
        return Counter()
    rows = duckdb.sql(
        "SELECT patient_id || '|' || device_id || '|' || "
        "CAST(epoch_ms(measured_at) AS VARCHAR) AS identity, count(*) "
        f"FROM read_parquet('{root}/{pattern}', hive_partitioning = false) GROUP BY 1"
    ).fetchall()
    return Counter({identity: int(count) for identity, count in rows})


def _pipeline_runs(lake: Path) -> list[tuple[str, str]]:
    """(run id, status) of the pipeline_runs mart, in the order the runs started."""
    root = lake / "marts" / "pipeline_runs"
    if not any(root.rglob("*.parquet")):
        return []
    rows = duckdb.sql(
        f"SELECT run_id, status FROM read_parquet('{root}/**/*.parquet') ORDER BY started_at"
    ).fetchall()
    return [(str(run_id), str(status)) for run_id, status in rows]


def _alert_reading(reading: GlucoseReading, arrival_ms: int) -> AlertReading:
    return AlertReading(
        measured_at=reading.measured_at,
        glucose_mg_dl=reading.glucose_mg_dl,
        arrived_at=arrival_ms,
        device_id=reading.device_id,
        utc_offset_minutes=reading.utc_offset_minutes,
    )


def _far_future() -> Any:
    # The simulated clock of a scenario runs ahead of the wall clock; "now" for the data-quality
    # check of future timestamps is after everything the scenario measured.
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=30)


def restart_kinesis_after(settings: Settings, down_s: float) -> Callable[[], None]:
    """kill -9 the local Kinesis now; returns a function that waits ``down_s`` and starts it
    again on the same port and data directory."""
    status = stack.status(settings)
    pid = int(status.processes["kinesalite"]["pid"])
    import os
    import signal

    os.kill(pid, signal.SIGKILL)

    def restart() -> None:
        time.sleep(down_s)
        stack.up(settings)

    return restart
