"""The KCL alerts consumer's image (terraform/modules/alerts_kcl), checked without Docker.

There is no Docker here, so the image is never built: these tests check what can be checked
from its files. The Dockerfile's lines (Java from Debian, the project installed with the kcl
extra under its pinned constraints, the entry point as the command, the user of the task
definition); every COPY source reaching the build context that ``Dockerfile.dockerignore``
leaves (BuildKit reads it instead of the root .dockerignore, which leaves terraform/ out);
``requirements.txt`` being the kcl extra's closure in the project's venv; and the entry point:
the daemon's properties (the local daemon's, but for CloudWatch metrics and the worker id),
the command it execs (the MultiLangDaemon class in the kclpy-ext jars), the worker id from the
ECS task metadata endpoint.

``python -m tests.terraform.test_alerts_kcl_image`` rewrites requirements.txt from this venv.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import shlex
import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import SecretStr

from glucosestream.local.kcl import SHUTDOWN_GRACE_MS, KclConfig
from glucosestream.settings import ResourceNames, Settings
from tests.dashboard_image.dockerfile import (
    command,
    context_files,
    ignore_patterns,
    instructions,
    only,
)
from tests.terraform.conftest import MODULES_DIR, REPO_ROOT, unquote

MODULE = MODULES_DIR / "alerts_kcl"
DOCKERFILE = MODULE / "Dockerfile"
IGNORE_FILE = MODULE / "Dockerfile.dockerignore"
REQUIREMENTS = MODULE / "requirements.txt"
ENTRYPOINT = MODULE / "entrypoint.py"
NAMES = ResourceNames(env="dev")
REGION = "eu-west-1"
REQUIREMENTS_HEADER = """\
# The alerts KCL image's pinned dependencies (a pip constraints file for '.[kcl]').
# Generated from the project's venv (the closure of scripts/dashboard_requirements.py over the kcl
# extra): do not edit by hand; regenerate with python -m tests.terraform.test_alerts_kcl_image
"""


def load_entrypoint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alerts_kcl_entrypoint", ENTRYPOINT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requirements_text() -> str:
    """requirements.txt as this venv gives it: every distribution '.[kcl]' installs, pinned."""
    spec = importlib.util.spec_from_file_location(
        "dashboard_requirements", REPO_ROOT / "scripts" / "dashboard_requirements.py"
    )
    assert spec is not None
    assert spec.loader is not None
    pins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pins)
    pinned = pins.closure(pins.project_requirements(("kcl",)))
    return REQUIREMENTS_HEADER + "".join(f"{name}=={pinned[name]}\n" for name in sorted(pinned))


def aws_settings() -> Settings:
    return Settings(env="dev", mode="aws", region=REGION, pseudonym_key=SecretStr("k" * 32))


def parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split(" = ", 1) for line in text.splitlines() if line.strip())
    return {key: value for key, value in pairs}


# --- the Dockerfile and its build context ---------------------------------------------------------


def test_the_image_is_python_311_with_java_17_and_the_kcl_extra() -> None:
    found = instructions(DOCKERFILE.read_text())
    assert only(found, "FROM").arguments == "python:3.11-slim-bookworm"
    runs = [i.arguments for i in found if i.keyword == "RUN"]
    java, install = runs
    assert "openjdk-17-jre-headless" in shlex.split(java)
    assert "--no-install-recommends" in shlex.split(java)
    assert shlex.split(install)[:6] == [
        "pip", "install", "--constraint", "requirements.txt", "--editable", ".[kcl]",
    ]  # fmt: skip
    assert only(found, "WORKDIR").arguments == "/app"
    assert only(found, "USER").arguments == "10001"  # the task definition's user
    # Exec form: python execs java (PID 1 gets ECS's SIGTERM).
    assert command(only(found, "CMD").arguments) == ["python", "/app/kcl_entrypoint.py"]
    copies = {tuple(shlex.split(i.arguments)) for i in found if i.keyword == "COPY"}
    assert ("terraform/modules/alerts_kcl/entrypoint.py", "./kcl_entrypoint.py") in copies
    assert ("terraform/modules/alerts_kcl/requirements.txt", "./requirements.txt") in copies
    env = " ".join(i.arguments for i in found if i.keyword == "ENV")
    assert "GS_MODE=aws" in env


def test_every_copy_source_reaches_the_build_context() -> None:
    """With the Dockerfile's own ignore file; the root .dockerignore would leave the entry
    point and the constraints out (it ignores terraform/ but the dashboard's requirements)."""
    found = instructions(DOCKERFILE.read_text())
    own = ignore_patterns(IGNORE_FILE.read_text())
    root = ignore_patterns((REPO_ROOT / ".dockerignore").read_text())
    sources = [
        source
        for copy in (i for i in found if i.keyword == "COPY")
        for source in shlex.split(copy.arguments)[:-1]
    ]
    assert len(sources) == 8
    for source in sources:
        assert context_files(REPO_ROOT, source, own), f"COPY {source}: not in the build context"
    assert not context_files(REPO_ROOT, "terraform/modules/alerts_kcl/entrypoint.py", root)
    # Nothing else of terraform/ (the state, tfvars) reaches the context.
    sent = context_files(REPO_ROOT, "terraform", own)
    assert {p.relative_to(REPO_ROOT).as_posix() for p in sent} == {
        "terraform/modules/alerts_kcl/entrypoint.py",
        "terraform/modules/alerts_kcl/requirements.txt",
    }


def test_requirements_are_the_kcl_extras_closure_in_this_venv() -> None:
    assert REQUIREMENTS.read_text() == requirements_text(), (
        "regenerate: python -m tests.terraform.test_alerts_kcl_image"
    )
    assert "kclpy-ext==" in REQUIREMENTS.read_text()


# --- the entry point ------------------------------------------------------------------------------


def test_the_daemon_runs_with_the_local_settings_but_metrics_and_worker_id() -> None:
    """The same stream, application (lease table), retrieval, polling, failover and shutdown
    settings as the local daemon (glucosestream/local/kcl.py, which make test-kcl runs); in AWS
    the KCL publishes SUMMARY metrics to CloudWatch and the worker is the ECS task."""
    entry = load_entrypoint()
    settings = aws_settings()
    aws = entry.properties(settings, "task-0123", SHUTDOWN_GRACE_MS)
    local = parse_properties(
        KclConfig(Settings(env="dev", region=REGION), 1, "local-1").properties()
    )
    assert aws.keys() == local.keys()
    assert {k for k in aws if aws[k] != local[k]} == {"metricsLevel", "workerId"}
    assert (aws["metricsLevel"], aws["workerId"]) == ("SUMMARY", "task-0123")
    assert aws["streamName"] == NAMES.readings_stream
    assert aws["applicationName"] == NAMES.alerts_kcl_application
    assert aws["regionName"] == REGION
    assert aws["executableName"] == f"{sys.executable} -m consumers.alerts_kcl.processor"
    assert aws["AwsCredentialsProvider"] == "DefaultCredentialsProvider"  # the task role


def test_the_shutdown_grace_is_the_modules_default(parsed: dict[Path, Any]) -> None:
    """The module passes shutdown_grace_ms as KCL_SHUTDOWN_GRACE_MILLIS; its default is the
    entry point's and the local daemon's (the task's stopTimeout adds 20 s to it)."""
    (variables,) = [
        body
        for block in parsed[MODULE / "variables.tf"]["variable"]
        for name, body in block.items()
        if unquote(name) == "shutdown_grace_ms"
    ]
    entry = load_entrypoint()
    assert variables["default"] == entry.SHUTDOWN_GRACE_MS == SHUTDOWN_GRACE_MS
    main_tf = (MODULE / "main.tf").read_text()
    assert 'name = "KCL_SHUTDOWN_GRACE_MILLIS", value = tostring(var.shutdown_grace_ms)' in main_tf
    assert "stop_timeout_s = ceil(var.shutdown_grace_ms / 1000) + 20" in main_tf


def test_main_writes_the_properties_then_execs_the_daemon(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    entry = load_entrypoint()
    for name in [n for n in os.environ if n.startswith("GS_")]:
        monkeypatch.delenv(name)
    environment = {
        "GS_ENV": "dev",
        "GS_MODE": "aws",
        "GS_REGION": REGION,
        "GS_PSEUDONYM_KEY": "k" * 32,
        "KCL_SHUTDOWN_GRACE_MILLIS": "15000",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ECS_CONTAINER_METADATA_URI_V4", raising=False)
    monkeypatch.setattr(entry, "PROPERTIES_FILE", tmp_path / "alerts-kcl.properties")
    monkeypatch.setattr(entry.shutil, "which", lambda name: f"/usr/bin/{name}")
    executed: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        executed.append([path, *argv])

    monkeypatch.setattr(entry.os, "execv", execv)
    entry.main()
    ((path, *argv),) = executed
    jars = Path(argv[3].removesuffix("/*"))
    assert path == argv[0] == "/usr/bin/java"
    assert argv == [
        "/usr/bin/java", "-Xmx512m", "-cp", f"{jars}/*",
        "software.amazon.kinesis.multilang.MultiLangDaemon",
        "--properties-file", str(tmp_path / "alerts-kcl.properties"),
    ]  # fmt: skip
    written = parse_properties((tmp_path / "alerts-kcl.properties").read_text())
    assert written["shutdownGraceMillis"] == "15000"
    assert written["workerId"] == socket.gethostname()  # no metadata endpoint
    assert written == entry.properties(aws_settings(), written["workerId"], 15000)
    # The class it runs is in the jars kclpy-ext installs (the image's, at the pinned version).
    (multilang,) = jars.glob("amazon-kinesis-client-multilang-*.jar")
    with zipfile.ZipFile(multilang) as jar:
        assert "software/amazon/kinesis/multilang/MultiLangDaemon.class" in jar.namelist()
    assert list(jars.glob("amazon-kinesis-client-3.*.jar")), "KCL 3.x (its tables, its index)"


def test_main_refuses_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = load_entrypoint()
    monkeypatch.setenv("GS_MODE", "local")
    with pytest.raises(SystemExit, match="aws mode"):
        entry.main()


@pytest.fixture
def task_metadata() -> Iterator[str]:
    """An ECS task metadata endpoint (v4) on 127.0.0.1 answering ``/task``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {"TaskARN": "arn:aws:ecs:eu-west-1:123456789012:task/gs-dev-alerts-kcl/0f1e2d3c"}
            ).encode()
            status = 200 if self.path == "/v4/container-1/task" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4/container-1"
    finally:
        server.shutdown()
        server.server_close()


def test_the_worker_id_is_the_ecs_task_id(task_metadata: str) -> None:
    entry = load_entrypoint()
    assert entry.worker_id({"ECS_CONTAINER_METADATA_URI_V4": task_metadata}) == "0f1e2d3c"
    # An endpoint that does not answer: the host name.
    assert entry.worker_id({"ECS_CONTAINER_METADATA_URI_V4": task_metadata + "/nope"}) == (
        socket.gethostname()
    )


if __name__ == "__main__":
    REQUIREMENTS.write_text(requirements_text())
    print(f"{REQUIREMENTS.relative_to(REPO_ROOT)}: {requirements_text().count('==')} pins")
