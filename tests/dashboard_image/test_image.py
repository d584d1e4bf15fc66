"""THE DASHBOARD IMAGE TEST: the ECS task's image, built without Docker, and served.

There is no Docker here, so this replays ``terraform/modules/dashboard/Dockerfile`` from its own
lines: the ``COPY`` lines copy the build context (filtered by ``.dockerignore``) into ``/app``
(a temporary directory), a fresh venv of the ``FROM`` line's Python takes the place of the base
image, the ``RUN`` line's ``pip install`` runs in it (from PyPI or pip's cache), the ``ENV``
lines become the environment, and the ``CMD`` line runs as Docker runs a shell-form command
(``/bin/sh -c``). The only changes are environment overrides: local mode against a small local
lake, 127.0.0.1 and a free port instead of 0.0.0.0:5006, and pip's cache allowed. Then the page
and the ``HEALTHCHECK`` command must answer, and the server stops on SIGTERM as ECS stops it.

Several minutes (a pip install of ~40 distributions); part of ``make test``. If the venv or
pip cannot be built, the test FAILS with pip's reason: it is never skipped.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from glucosestream.local.processes import free_port
from tests.component.dashboard.lake import build_lake
from tests.dashboard_image.dockerfile import (
    Instruction,
    command,
    context_files,
    environment,
    healthcheck,
    ignore_patterns,
    instructions,
    only,
)

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "terraform" / "modules" / "dashboard" / "Dockerfile"
REQUIREMENTS = ROOT / "terraform" / "modules" / "dashboard" / "requirements.txt"
PIP_TIMEOUT_S = 1200
START_TIMEOUT_S = 90
NOT_REPLAYED = ("useradd",)
"""RUN steps that need root and change nothing the app runs with (the USER line's account)."""
BUILD_TOOLS = {"pip", "setuptools", "wheel"}

pytestmark = [
    pytest.mark.dashboard_image,
    pytest.mark.deploy,
    pytest.mark.timeout(PIP_TIMEOUT_S + 300),
]


def base_python(from_line: str) -> str:
    """An interpreter of the version the base image (``python:<x.y>-…``) carries."""
    tag = from_line.split(":", 1)[1]
    version = tag.split("-", 1)[0]
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.fail(f"the image's Python {version} ({from_line}) is not installed here")
    return found


def replay_copy(found: list[Instruction], app: Path) -> None:
    patterns = ignore_patterns((ROOT / ".dockerignore").read_text())
    workdir = only(found, "WORKDIR").arguments
    assert workdir == "/app", "the replay maps WORKDIR /app to a temporary directory"
    copies = [i for i in found if i.keyword == "COPY"]
    assert copies
    for copy in copies:
        *sources, destination = shlex.split(copy.arguments)
        assert not destination.startswith("/"), f"COPY {copy.arguments}: relative to WORKDIR"
        for source in sources:
            files = context_files(ROOT, source, patterns)
            assert files, f"COPY {source}: nothing in the build context (.dockerignore?)"
            for path in files:
                if destination.endswith("/"):
                    target = app / destination / path.relative_to(ROOT / source).as_posix()
                    if (ROOT / source).is_file():
                        target = app / destination / path.name
                elif (ROOT / source).is_file():
                    target = app / destination
                else:
                    target = app / destination / path.relative_to(ROOT / source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


def image_environment(found: list[Instruction], venv: Path, home: Path) -> dict[str, str]:
    env = {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}
    for instruction in found:
        if instruction.keyword == "ENV":
            env.update(environment(instruction.arguments))
    return env


def replay_run(found: list[Instruction], app: Path, venv: Path, env: dict[str, str]) -> int:
    """Run the RUN lines' pip installs in the venv; returns how many ran."""
    ran = 0
    for run in (i for i in found if i.keyword == "RUN"):
        for step in (s.strip() for s in run.arguments.split("&&")):
            words = shlex.split(step)
            if words[0] in NOT_REPLAYED:
                continue
            assert words[:2] == ["pip", "install"], f"RUN step not replayed here: {step}"
            install = subprocess.run(
                [str(venv / "bin" / "python"), "-m", *words],
                cwd=app,
                env={**env, "PIP_NO_CACHE_DIR": "0"},  # the cache changes nothing installed
                capture_output=True,
                text=True,
                timeout=PIP_TIMEOUT_S,
                check=False,
            )
            if install.returncode != 0:
                pytest.fail(
                    f"`{step}` failed (exit {install.returncode}):\n{install.stderr[-3000:]}"
                )
            ran += 1
    return ran


def installed(venv: Path) -> dict[str, str]:
    freeze = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = (line.split("==", 1) for line in freeze.stdout.splitlines() if "==" in line)
    return {name.lower().replace("_", "-"): version for name, version in pairs}


def pinned() -> dict[str, str]:
    lines = [line for line in REQUIREMENTS.read_text().splitlines() if "==" in line]
    return dict(line.split("==", 1) for line in lines)


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def wait_until_served(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            pytest.fail(f"the image's CMD exited with {server.returncode}:\n{output[-3000:]}")
        try:
            get(url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    pytest.fail(f"the image's CMD did not serve {url} within {START_TIMEOUT_S} s")


def test_the_image_builds_and_serves_the_dashboard(tmp_path: Path) -> None:
    found = instructions(DOCKERFILE.read_text())
    app, venv, home = tmp_path / "app", tmp_path / "venv", tmp_path / "home"
    home.mkdir()

    # Given the image's file system and the base image's Python
    replay_copy(found, app)
    subprocess.run(
        [base_python(only(found, "FROM").arguments), "-m", "venv", str(venv)],
        check=True,
        capture_output=True,
    )
    env = image_environment(found, venv, home)
    assert env["GS_MODE"] == "aws"  # the image's own mode; overridden below to serve locally

    # When its RUN line installs the project
    assert replay_run(found, app, venv, env) == 1
    everything = installed(venv)
    pins = pinned()
    unpinned = {
        name: version
        for name, version in everything.items()
        if name not in BUILD_TOOLS | {"glucosestream"} and pins.get(name) != version
    }
    assert not unpinned, f"installed but not at a pinned version: {unpinned}"
    assert set(pins) <= set(everything), f"pinned but not installed: {set(pins) - set(everything)}"

    # And its CMD runs, in local mode against a small lake, on 127.0.0.1
    lake = build_lake(tmp_path / "state", patients=3, days=28)
    port = free_port()
    env.update(
        GS_MODE="local",
        GS_ENV=lake.settings.env,
        GS_STATE_DIR=str(lake.settings.state_dir),
        GS_DASHBOARD_ADDRESS="127.0.0.1",
        GS_DASHBOARD_PORT=str(port),
        # Nothing of another local stack on this machine: the live view's ports are free ones.
        GS_KINESIS_PORT=str(free_port()),
        GS_MOTO_PORT=str(free_port()),
    )
    cmd = command(only(found, "CMD").arguments)
    assert cmd[:2] == ["/bin/sh", "-c"]
    assert cmd[2].startswith("exec ")
    server = subprocess.Popen(
        cmd,
        cwd=app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        page = f"http://127.0.0.1:{port}/bokeh_app?view=cohort"
        wait_until_served(page, server)

        # Then the page is the dashboard, from the copied app and the lake
        status, body = get(page)
        assert status == 200
        assert b"GlucoseStream" in body
        assert b"bokeh" in body.lower()
        # And the HEALTHCHECK command succeeds (the path it probes answers without a session)
        probe = healthcheck(only(found, "HEALTHCHECK").arguments)
        checked = subprocess.run(
            probe, cwd=app, env=env, capture_output=True, text=True, timeout=30, check=False
        )
        assert checked.returncode == 0, checked.stderr
        status, body = get(f"http://127.0.0.1:{port}/bokeh_app/metadata")
        assert (status, b'"url": "/bokeh_app"' in body) == (200, True)
        # And it reports a dead server as unhealthy, so it can fail
        dead = subprocess.run(
            probe,
            cwd=app,
            env={**env, "GS_DASHBOARD_PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert dead.returncode == 1
        assert "unhealthy" in dead.stderr
    finally:
        # ECS stops a task with SIGTERM to PID 1 (exec made bokeh PID 1 of the shell's place).
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            pytest.fail("the server did not stop on SIGTERM")
        output = server.stdout.read() if server.stdout else ""
    assert "Traceback" not in output, output[-3000:]
