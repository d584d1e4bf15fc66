"""The alerts KCL image's entry point: write the MultiLangDaemon's properties, then become it.

The Dockerfile beside this file copies it to ``/app/kcl_entrypoint.py`` and runs it as the
container's command. It loads the settings the task definition gives (``GS_ENV``, ``GS_MODE=aws``,
``GS_REGION``, the topic ARNs, ``GS_PSEUDONYM_KEY`` from Secrets Manager), derives every name from
them (``ResourceNames``: the readings stream, the KCL application, which is also the lease
table's name), writes the properties file to ``/tmp`` (the task's only writable path) and
``exec``s Java, so the daemon is PID 1 and receives ECS's SIGTERM: each record processor
checkpoints what it applied, within ``shutdownGraceMillis`` (``KCL_SHUTDOWN_GRACE_MILLIS``, which
the task's stopTimeout exceeds).

The daemon runs ``python -m consumers.alerts_kcl.processor`` for each shard it leases, with this
process's environment (the settings above, the task role's credentials). The settings are those
of the local daemon (``glucosestream/local/kcl.py``) but for what AWS changes: metrics go to
CloudWatch (``SUMMARY``, under the application name), the worker id is the ECS task's id, and
there are no endpoint overrides. ``tests/terraform/test_alerts_kcl_image.py`` compares them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any

PROCESSOR_MODULE = "consumers.alerts_kcl.processor"
DAEMON_CLASS = "software.amazon.kinesis.multilang.MultiLangDaemon"
JVM_OPTIONS = ("-Xmx512m",)
PROPERTIES_FILE = Path("/tmp/alerts-kcl.properties")  # noqa: S108 - the task's tmp volume
SHUTDOWN_GRACE_MS = 10_000
"""The default of ``KCL_SHUTDOWN_GRACE_MILLIS`` (the module's shutdown_grace_ms)."""
METADATA_TIMEOUT_S = 2.0


def properties(
    settings: Any, worker_id: str, shutdown_grace_ms: int, python: str = sys.executable
) -> dict[str, str]:
    """The MultiLangDaemon's properties for ``settings`` (aws mode)."""
    names = settings.names
    return {
        "executableName": f"{python} -m {PROCESSOR_MODULE}",
        "streamName": names.readings_stream,
        "applicationName": names.alerts_kcl_application,
        "AwsCredentialsProvider": "DefaultCredentialsProvider",
        "processingLanguage": f"python/{sys.version_info.major}.{sys.version_info.minor}",
        "initialPositionInStream": "TRIM_HORIZON",
        "regionName": settings.region,
        "retrievalMode": "POLLING",
        "metricsLevel": "SUMMARY",
        "idleTimeBetweenReadsInMillis": "250",
        "failoverTimeMillis": "10000",
        "shutdownGraceMillis": str(shutdown_grace_ms),
        "workerId": worker_id,
    }


def render(values: dict[str, str]) -> str:
    return "".join(f"{key} = {value}\n" for key, value in values.items())


def worker_id(environ: dict[str, str] | None = None) -> str:
    """The ECS task's id (from the task metadata endpoint), so that a lease's owner names the
    task holding it; the host name where there is no metadata endpoint."""
    environ = dict(os.environ) if environ is None else environ
    endpoint = environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if endpoint and endpoint.startswith("http://"):
        try:
            with urllib.request.urlopen(  # noqa: S310 - the ECS agent's link-local http endpoint
                f"{endpoint}/task", timeout=METADATA_TIMEOUT_S
            ) as response:
                task_arn = str(json.load(response)["TaskARN"])
            return task_arn.rsplit("/", 1)[-1]
        except (OSError, ValueError, KeyError):
            pass
    return socket.gethostname()


def kcl_jars() -> Path:
    """The KCL's jars, shipped inside the ``amazon_kclpy`` package (kclpy-ext)."""
    import amazon_kclpy

    return Path(amazon_kclpy.__file__).parent / "jars"


def command(java: str, jars: Path, properties_file: Path) -> list[str]:
    return [
        java,
        *JVM_OPTIONS,
        "-cp",
        f"{jars}/*",
        DAEMON_CLASS,
        "--properties-file",
        str(properties_file),
    ]


def main() -> None:
    from glucosestream.settings import load_settings

    settings = load_settings()
    if settings.mode != "aws":
        raise SystemExit("the alerts KCL image runs in aws mode (GS_MODE=aws)")
    java = shutil.which("java")
    if java is None:
        raise SystemExit("java is not on PATH (the image installs openjdk-17-jre-headless)")
    grace_ms = int(os.environ.get("KCL_SHUTDOWN_GRACE_MILLIS", str(SHUTDOWN_GRACE_MS)))
    values = properties(settings, worker_id(), grace_ms)
    PROPERTIES_FILE.write_text(render(values))
    # The container's log (the daemon's stdout): what this worker runs with; no secret in it.
    print(json.dumps({"message": "starting the KCL MultiLangDaemon", **values}), flush=True)
    argv = command(java, kcl_jars(), PROPERTIES_FILE)
    os.execv(argv[0], argv)  # noqa: S606 - our own command line, no shell


if __name__ == "__main__":
    main()
