"""The alerts consumer as a Kinesis Client Library application on the local stack: the KCL's
MultiLangDaemon (Java, from the jars ``kclpy-ext`` ships) running
:mod:`consumers.alerts_kcl.processor` for each shard it leases, against kinesalite and moto.

Two things stand between the KCL and the local stack, both found by running it:

* the KCL's Kinesis client speaks HTTP/2 with prior knowledge over ``http://``, kinesalite only
  HTTP/1.1: an ``nghttpx`` (Debian ``nghttp2-proxy``) on a free loopback port translates;
* kinesalite's CBOR encoder truncates responses at 16 KiB: the JVM runs with
  ``-Daws.cborEnabled=false`` (JSON).

The endpoints reach the AWS SDK for Java through its ``AWS_ENDPOINT_URL_<SERVICE>`` variables:
Kinesis through nghttpx, DynamoDB (leases, coordinator state, worker metrics: the KCL creates its
tables, ``ResourceNames.alerts_kcl_application`` and two beside it) at moto.
The worker id is fixed: with a random one, a restarted daemon waits on the dead worker's leader
lock and leases stay with it until they expire.

Both children get SIGKILL when the worker process dies (``PR_SET_PDEATHSIG``), so a ``kill -9``
of the worker never leaves a daemon consuming beside its replacement. A clean stop sends the
daemon SIGTERM: it asks each record processor to checkpoint, then exits (KCL 3.1.3 then waits
for a shutdown latch it never counts down and logs a TimeoutException after
``shutdownGraceMillis``; the checkpoints are written by then).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glucosestream.local.processes import StackError, free_port, port_open
from glucosestream.resources import PROJECT_ROOT
from glucosestream.settings import Settings

PR_SET_PDEATHSIG = 1
JVM_OPTIONS = ("-Daws.cborEnabled=false", "-Xmx512m")
SHUTDOWN_GRACE_MS = 10_000
"""The KCL's shutdownGraceMillis (0 makes its shutdown throw)."""
STOP_TIMEOUT_S = SHUTDOWN_GRACE_MS / 1000 + 10
PROCESSOR_MODULE = "consumers.alerts_kcl.processor"


def kcl_jars() -> Path:
    """The directory of the KCL's jars inside the installed ``amazon_kclpy`` package."""
    try:
        import amazon_kclpy
    except ImportError:
        raise StackError(
            "the KCL consumer needs the kcl extra (kclpy-ext): run `make setup`"
        ) from None
    return Path(amazon_kclpy.__file__).parent / "jars"


def required_binaries() -> dict[str, str]:
    """``java`` and ``nghttpx`` on PATH, or a StackError saying how to install them."""
    found = {name: shutil.which(name) for name in ("java", "nghttpx")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise StackError(
            f"the KCL consumer needs {' and '.join(missing)}: run `make setup-kcl` "
            "(installs openjdk-17-jre-headless and nghttp2-proxy when missing)"
        )
    return {name: str(path) for name, path in found.items()}


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the worker that started it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class KclConfig:
    settings: Settings
    front_port: int
    """nghttpx's port (HTTP/2 without TLS) in front of kinesalite."""
    worker_id: str
    idle_between_reads_ms: int = 250

    def properties(self) -> str:
        """The MultiLangDaemon's properties file."""
        names = self.settings.names
        values = {
            "executableName": f"{sys.executable} -m {PROCESSOR_MODULE}",
            "streamName": names.readings_stream,
            "applicationName": names.alerts_kcl_application,
            "AwsCredentialsProvider": "DefaultCredentialsProvider",
            "processingLanguage": f"python/{sys.version_info.major}.{sys.version_info.minor}",
            "initialPositionInStream": "TRIM_HORIZON",
            "regionName": self.settings.region,
            "retrievalMode": "POLLING",
            "metricsLevel": "NONE",
            "idleTimeBetweenReadsInMillis": str(self.idle_between_reads_ms),
            "failoverTimeMillis": "10000",
            "shutdownGraceMillis": str(SHUTDOWN_GRACE_MS),
            "workerId": self.worker_id,
        }
        return "".join(f"{key} = {value}\n" for key, value in values.items())

    def nghttpx_config(self) -> str:
        host = self.settings.local_host
        return (
            f"frontend={host},{self.front_port};no-tls\n"
            f"backend={host},{self.settings.kinesis_port}\n"
            "workers=1\n"
        )

    def environment(self) -> dict[str, str]:
        """The daemon's (and so its record processors') environment: the SDK's endpoints and
        credentials, and the GS_* settings the processor's composition root loads."""
        host = self.settings.local_host
        moto = f"http://{host}:{self.settings.moto_port}"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("GS_")}
        return {
            **inherited,
            **self.settings.as_environment(),
            "AWS_ENDPOINT_URL_KINESIS": f"http://{host}:{self.front_port}",
            "AWS_ENDPOINT_URL_DYNAMODB": moto,
            "AWS_ENDPOINT_URL_CLOUDWATCH": moto,
            "AWS_ACCESS_KEY_ID": inherited.get("AWS_ACCESS_KEY_ID", "testing"),
            "AWS_SECRET_ACCESS_KEY": inherited.get("AWS_SECRET_ACCESS_KEY", "testing"),
            "AWS_REGION": self.settings.region,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT_ROOT), inherited.get("PYTHONPATH", "")) if p
            ),
        }


def reports_dir(settings: Settings) -> Path:
    """Where each record-processor process writes its counters (one file per process)."""
    return settings.state_dir / "workers" / "alerts-kcl"


def processor_reporter(settings: Settings) -> Callable[[dict[str, Any]], None]:
    """A record processor's report: its counters, atomically, in its own file."""
    from glucosestream.lake.durable_files import write_atomically

    path = reports_dir(settings) / f"processor-{os.getpid()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat()

    def report(counters: dict[str, Any]) -> None:
        document = {"pid": os.getpid(), "started_at": started, **counters}
        write_atomically(path, json.dumps(document).encode(), durable=False)

    return report


def processor_reports(settings: Settings, since: str) -> list[dict[str, Any]]:
    """The last report of every record-processor process started at or after ``since`` (ISO
    UTC): one per shard the daemon started by one worker process consumed."""
    directory = reports_dir(settings)
    reports = []
    for path in sorted(directory.glob("processor-*.json")) if directory.is_dir() else []:
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # replaced while read: the next report has it
        if str(document.get("started_at", "")) >= since:
            reports.append(document)
    return reports


def processor_totals(settings: Settings, since: str) -> dict[str, int]:
    """The counters of :func:`processor_reports`, summed."""
    totals = {"records_succeeded": 0, "records_discarded": 0, "retries": 0, "processors": 0}
    for document in processor_reports(settings, since):
        totals["processors"] += 1
        for name in ("records_succeeded", "records_discarded", "retries"):
            totals[name] += int(document.get(name, 0))
    return totals


class KclDaemon:
    """nghttpx and the MultiLangDaemon as children of this process."""

    def __init__(self, settings: Settings, worker_id: str | None = None) -> None:
        self.binaries = required_binaries()
        self.jars = kcl_jars()
        self.settings = settings
        self.config = KclConfig(settings, free_port(settings.local_host), worker_id or "local-1")
        self.directory = settings.state_dir / "kcl"
        self.front: subprocess.Popen[bytes] | None = None
        self.daemon: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        front_conf = self.directory / "nghttpx.conf"
        front_conf.write_text(self.config.nghttpx_config())
        properties = self.directory / "alerts.properties"
        properties.write_text(self.config.properties())
        logs = self.settings.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.front = self._spawn(
            [self.binaries["nghttpx"], f"--conf={front_conf}"], logs / "kcl-nghttpx.log"
        )
        deadline = time.monotonic() + 10
        while not port_open(self.settings.local_host, self.config.front_port):
            if self.front.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"nghttpx did not start: see {logs / 'kcl-nghttpx.log'}")
            time.sleep(0.05)
        self.daemon = self._spawn(
            [
                self.binaries["java"],
                *JVM_OPTIONS,
                "-cp",
                f"{self.jars}/*",
                "software.amazon.kinesis.multilang.MultiLangDaemon",
                "--properties-file",
                str(properties),
            ],
            logs / "kcl-daemon.log",
        )

    def _spawn(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            return subprocess.Popen(  # noqa: S603 - our own command lines, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self.config.environment(),
                # Not thread-safe in general; here it only calls prctl before exec.
                preexec_fn=_die_with_parent,
            )

    def exited(self) -> int | None:
        """The exit status of a child that died (None while both run)."""
        for child in (self.daemon, self.front):
            if child is not None and child.poll() is not None:
                return child.returncode
        return None

    def stop(self) -> None:
        """SIGTERM the daemon (its processors checkpoint), then the front; SIGKILL laggards."""
        for child, timeout in ((self.daemon, STOP_TIMEOUT_S), (self.front, 5.0)):
            if child is None or child.poll() is not None:
                continue
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
