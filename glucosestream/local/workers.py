"""The local stack's consumers as separate processes, as Lambda and Firehose run apart from the
producer in AWS: ``python -m glucosestream.local.workers {alerts|firehose|pipeline}``.

* ``alerts`` — the alerts Lambda handler behind the local event-source mapping (the settings
  Terraform deploys, the DLQ as on-failure destination);
* ``alerts-kcl`` — the same consumer as a Kinesis Client Library application (the Java
  MultiLangDaemon and its Python record processors, :mod:`glucosestream.local.kcl`);
* ``firehose`` — the Firehose delivery streams landing the raw zone (readings, treatments,
  erasures), each on its own thread;
* ``pipeline`` — the Step Functions pipeline every ``--every`` seconds, like the EventBridge
  schedule.

Each one resumes from its own durable checkpoints, so ``kill -9`` followed by a restart loses
nothing (the fault-injection tests do exactly that). SIGTERM or SIGINT stops one cleanly. Every
second a worker writes its counters to ``<state>/workers/<name>.json`` (atomically), which is how
the demo's health line and the tests see them. The simulated clock of an accelerated demo, when
there is one, is read from ``<state>/workers/clock.json`` (the pipeline's "now").
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glucosestream.lake.durable_files import write_atomically
from glucosestream.local.esm import MappingConfig
from glucosestream.settings import Settings, load_settings

WORKERS = ("alerts", "alerts-kcl", "firehose", "pipeline")

ALERTS_MAPPING = MappingConfig(
    batch_size=1000,
    maximum_batching_window_s=1,
    report_batch_item_failures=True,
    bisect_batch_on_function_error=True,
    maximum_retry_attempts=3,
    maximum_record_age_s=21_600,
    starting_position="TRIM_HORIZON",
)
"""The settings Terraform deploys for the alerts consumer (the DLQ URL is added at run time)."""

STATS_EVERY_S = 1.0
WORKER_STOP_S = 60.0


def workers_dir(settings: Settings) -> Path:
    return settings.state_dir / "workers"


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write beside, then rename: a reader sees the old or the new document, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(document, default=str).encode(), durable=False)


def read_json(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return loaded


def stats_file(settings: Settings, name: str) -> Path:
    return workers_dir(settings) / f"{name}.json"


def clock_file(settings: Settings) -> Path:
    return workers_dir(settings) / "clock.json"


def set_simulated_now(settings: Settings, epoch_ms: int) -> None:
    """Tell the pipeline worker what "now" is on an accelerated clock."""
    write_json(clock_file(settings), {"now_ms": epoch_ms})


def simulated_now(settings: Settings) -> datetime:
    """The later of the wall clock and the demo's simulated clock."""
    now_ms = max(int(read_json(clock_file(settings)).get("now_ms", 0)), int(time.time() * 1000))
    return datetime.fromtimestamp(now_ms / 1000, tz=UTC)


def _counters(stats: Any) -> dict[str, Any]:
    """A dataclass's public fields (not ``asdict``: the mapping's stats hold a lock)."""
    return {
        f.name: dict(value) if isinstance(value := getattr(stats, f.name), dict) else value
        for f in fields(stats)
        if not f.name.startswith("_")
    }


@dataclass
class PipelineStats:
    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    last_status: str = ""
    last_run_id: str = ""
    last_finished_at: str = ""
    last_line: str = ""


def _report_stats(
    settings: Settings, name: str, stats: Callable[[], dict[str, Any]], stop: threading.Event
) -> None:
    started = datetime.now(UTC).isoformat()

    def report() -> None:
        write_json(
            stats_file(settings, name),
            {"worker": name, "pid": os.getpid(), "started_at": started,
             "updated_at": datetime.now(UTC).isoformat(), **stats()},
        )  # fmt: skip

    report()
    while not stop.wait(STATS_EVERY_S):
        report()
    report()  # a clean stop's final counts (the demo's run totals add them up)


def run_alerts(settings: Settings, stop: threading.Event) -> None:
    from consumers.alerts.handler import lambda_handler
    from glucosestream.adapters.clients import aws_client
    from glucosestream.local.esm import EventSourceMapping

    sqs = aws_client("sqs", settings)
    dlq_url = sqs.get_queue_url(QueueName=settings.names.alerts_dlq)["QueueUrl"]
    config = MappingConfig(**{**ALERTS_MAPPING.__dict__, "on_failure_queue_url": dlq_url})
    mapping = EventSourceMapping("alerts", settings, lambda_handler, config)
    _with_stats(settings, "alerts", lambda: _counters(mapping.stats), stop, mapping.run)


def run_alerts_kcl(settings: Settings, stop: threading.Event) -> None:
    """The alerts consumer on the KCL (:mod:`glucosestream.local.kcl`): the daemon runs until
    ``stop``; if it dies, this process exits with an error, to be restarted like any worker."""
    from glucosestream.local.kcl import KclDaemon, processor_totals

    since = datetime.now(UTC).isoformat()
    daemon = KclDaemon(settings, worker_id=f"{settings.names.prefix}-local-1")

    def run(stop: threading.Event) -> None:
        daemon.start()
        try:
            while not stop.wait(0.5):
                status = daemon.exited()
                if status is not None:
                    raise RuntimeError(f"the KCL daemon exited with status {status}")
        finally:
            daemon.stop()

    _with_stats(settings, "alerts-kcl", lambda: processor_totals(settings, since), stop, run)


def run_firehose(
    settings: Settings, stop: threading.Event, buffer_seconds: float, transform_processes: int = 0
) -> None:
    """Every delivery stream, each on its own thread: the readings one's counters at the top
    level (the demo's run totals read them), the others' under their dataset's name. The
    readings delivery runs its transform invocations in ``transform_processes`` processes
    (0: on its thread); the others carry too little to need them."""
    from glucosestream.lake.raw_zone.schema import RAW_TABLES, READINGS
    from glucosestream.local.firehose import FirehoseWorker

    workers = {
        raw_table.dataset: FirehoseWorker(
            settings,
            buffer_seconds=buffer_seconds,
            raw_table=raw_table,
            transform_processes=transform_processes if raw_table is READINGS else 0,
        )
        for raw_table in RAW_TABLES
    }

    def counters_of(worker: FirehoseWorker) -> dict[str, Any]:
        return {**_counters(worker.stats), "files_written": worker.stats.files_written}

    def counters() -> dict[str, Any]:
        others = {name: counters_of(w) for name, w in workers.items() if name != "readings"}
        return {**counters_of(workers["readings"]), **others}

    deliveries = [worker.run for worker in workers.values()]
    _with_stats(settings, "firehose", counters, stop, lambda s: run_together(deliveries, s))


def run_together(runs: Sequence[Callable[[threading.Event], None]], stop: threading.Event) -> None:
    """Run each loop on its own thread until ``stop``; the first one to fail stops the others
    and its error is raised here (the process then exits and is restarted: a loop that died
    quietly would stop landing data while its process looked alive)."""
    errors: list[BaseException] = []
    failed = threading.Event()

    def guarded(run: Callable[[threading.Event], None]) -> None:
        try:
            run(stop)
        except BaseException as error:
            errors.append(error)
            failed.set()
            stop.set()

    threads = [
        threading.Thread(target=guarded, args=(run,), name=f"loop-{index}", daemon=True)
        for index, run in enumerate(runs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed.is_set():
        raise errors[0]


def pipeline_line(status: str, state: dict[str, Any]) -> str:
    curated = state.get("curate", {})
    quality = state.get("quality", {})
    marts = state.get("marts", {})
    period = state.get("period") or {}
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
        + (
            f" ({period.get('period_rows', 0)} patients, {period.get('episode_rows', 0)} "
            f"episodes, {period.get('iglu_rows', 0)} iglu metric values)"
            if period
            else ""
        )
    )


def run_pipeline_schedule(settings: Settings, stop: threading.Event, every_s: float) -> None:
    from glucosestream.local.pipeline_runner import run_pipeline

    stats = PipelineStats()

    def loop(stop: threading.Event) -> None:
        while not stop.wait(every_s):
            run = run_pipeline(settings, as_of=simulated_now(settings))
            stats.runs += 1
            stats.last_status = run.execution.status
            if run.execution.status == "SUCCEEDED":
                stats.succeeded += 1
            else:
                stats.failed += 1
            stats.last_run_id = str(run.last_state.get("plan", {}).get("run_id", ""))
            stats.last_finished_at = datetime.now(UTC).isoformat()
            stats.last_line = pipeline_line(run.execution.status, run.last_state)
            print(stats.last_line, flush=True)

    _with_stats(settings, "pipeline", lambda: asdict(stats), stop, loop)


def _with_stats(
    settings: Settings,
    name: str,
    stats: Callable[[], dict[str, Any]],
    stop: threading.Event,
    run: Callable[[threading.Event], None],
) -> None:
    reporter_stop = threading.Event()
    reporter = threading.Thread(
        target=_report_stats, args=(settings, name, stats, reporter_stop), daemon=True
    )
    reporter.start()
    try:
        run(stop)
    finally:
        reporter_stop.set()
        reporter.join(timeout=5)


class WorkerProcess:
    """One consumer process (:mod:`glucosestream.local.workers`), restarted if it dies."""

    def __init__(self, name: str, arguments: list[str], settings: Settings) -> None:
        self.name = name
        self.argv = [sys.executable, "-m", "glucosestream.local.workers", name, *arguments]
        self.environment = settings.as_environment()
        self.log = settings.state_dir / "logs" / f"worker-{name}.log"
        self.child: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.child = subprocess.Popen(  # noqa: S603 - our own module, no shell
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: Ctrl-C reaches the demo, which stops it in order.
                start_new_session=True,
                env={**_inherited_environment(), **self.environment},
            )

    def exited(self) -> int | None:
        return None if self.child is None else self.child.poll()

    def kill(self) -> None:
        """SIGKILL, as a crash or an out-of-memory kill would end it (fault injection)."""
        if self.child is not None and self.child.poll() is None:
            self.child.kill()
            self.child.wait()

    def stop(self, timeout_s: float = WORKER_STOP_S) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        self.child.send_signal(signal.SIGTERM)
        try:
            self.child.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def _inherited_environment() -> dict[str, str]:
    """This process's environment without its GS_* settings (the child gets ours explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GS_")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glucosestream.local.workers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("worker", choices=WORKERS)
    parser.add_argument(
        "--buffer-seconds", type=float, default=60.0, help="firehose: buffering interval"
    )
    parser.add_argument(
        "--transform-processes",
        type=int,
        default=0,
        help="firehose: run the readings transform invocations in this many processes "
        "(0: on the delivery thread)",
    )
    parser.add_argument("--every", type=float, default=60.0, help="pipeline: seconds between runs")
    args = parser.parse_args(argv)
    if args.buffer_seconds <= 0 or args.every <= 0:
        parser.error("--buffer-seconds and --every must be positive")
    if args.worker == "firehose":
        # Imported here: the other workers need none of the delivery stream's modules.
        from glucosestream.local.firehose.invocation import MAX_TRANSFORM_PROCESSES

        if not 0 <= args.transform_processes <= MAX_TRANSFORM_PROCESSES:
            parser.error(f"--transform-processes must be 0-{MAX_TRANSFORM_PROCESSES}")
    settings = load_settings()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"worker {args.worker} started (pid {os.getpid()})", flush=True)
    if args.worker == "alerts":
        run_alerts(settings, stop)
    elif args.worker == "alerts-kcl":
        run_alerts_kcl(settings, stop)
    elif args.worker == "firehose":
        run_firehose(settings, stop, args.buffer_seconds, args.transform_processes)
    else:
        run_pipeline_schedule(settings, stop, args.every)
    print(f"worker {args.worker} stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
