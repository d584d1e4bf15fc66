"""`make run`'s job: stack up, backfill streamed and read back, consumer processes supervised,
clean stop on Ctrl-C or SIGTERM, and a second run resumes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from glucosestream.ingest.api.config import LOCAL_API_KEY
from glucosestream.local.processes import process_matches
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


def _start_demo(
    state_dir: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = env or {
        **os.environ,
        "GS_STATE_DIR": str(state_dir),
        "GS_KINESIS_PORT": str(free_port()),
        "GS_MOTO_PORT": str(free_port()),
        "GS_ENV": "demo",
    }
    demo = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("glucosestream")),
            "demo",
            "--patients",
            "4",
            "--days",
            "0.5",
            "--speed",
            "600",
            "--pipeline-every",
            "0",
            "--dashboard-port",
            str(free_port()),
            "--api-port",
            str(free_port()),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return demo, env


def _wait_for_line(demo: subprocess.Popen[str], needle: str, timeout_s: float = 90) -> list[str]:
    assert demo.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if needle in line:
            return lines
    pytest.fail(f"demo never printed {needle!r}; output: {lines}")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_demo_streams_reads_back_and_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    demo, env = _start_demo(tmp_path)
    try:
        lines = _wait_for_line(demo, "live: 4 patients at 600x")
        lines += _wait_for_line(demo, "health: published")
        assert any(line.startswith("workers: alerts") for line in lines)
        assert any(line.startswith("dashboard: http://127.0.0.1:") for line in lines)
        assert any(line.startswith("ingest API: http://127.0.0.1:") for line in lines)
        status = json.loads((tmp_path / "stack.json").read_text())
        assert any("every reading came back once, in per-patient order" in x for x in lines)
        published = next(x for x in lines if x.startswith("published"))
        read_back = next(x for x in lines if x.startswith("read back"))
        assert published.split()[1] == read_back.split()[2]
        assert int(published.split()[1]) > 0
        # Three readings through the demo's ingest API: the run's totals must count them too.
        api_line = next(x for x in lines if x.startswith("ingest API: http://127.0.0.1:"))
        post_readings(api_line.split()[2], 3)
        demo.send_signal(stop_signal)
        out, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
            # A killed demo cannot stop its stack: do it here, tests stop what they start.
            _stop_stack(env)
    assert demo.returncode == 0, out
    assert "stopped moto, kinesalite" in out
    health = [line for line in lines if line.startswith("health:")]
    assert "discarded 0" in health[-1]
    assert " rows + 0 errors in " in health[-1]
    # The run's totals: nothing lost or doubled between the publisher, the alerts consumer
    # and the raw zone (the stop drains the stream before the workers go).
    (summary,) = [line for line in out.splitlines() if line.startswith("summary:")]
    published, read, landed, _alerts, from_api = map(int, re.findall(r"\d+", summary))
    assert published == read == landed > 0, summary
    assert from_api == 3, summary
    for process in status["processes"].values():
        assert not process_matches(process["pid"], process["marker"])
    assert not (tmp_path / "stack.json").exists()


def post_readings(api_url: str, count: int) -> None:
    now_ms = int(time.time() * 1000)
    items = [
        {
            "patient_id": "demo-integration",
            "device_id": "dexcom-g7-TEST01",
            "measured_at": now_ms - i * 300_000,
            "glucose": 110 + i,
            "unit": "mg/dL",
        }
        for i in range(count)
    ]
    request = urllib.request.Request(
        api_url.rstrip("/") + "/v1/readings",
        data=json.dumps(items).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "x-api-key": LOCAL_API_KEY},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202


def _stop_stack(env: dict[str, str]) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("glucosestream")), "local", "down"],
        env=env,
        capture_output=True,
        check=False,
    )


def test_a_killed_worker_is_restarted_and_a_second_run_resumes(tmp_path: Path) -> None:
    demo, env = _start_demo(tmp_path)
    try:
        _wait_for_line(demo, "live: 4 patients at 600x")
        stats = tmp_path / "workers" / "alerts.json"
        deadline = time.monotonic() + 30
        while not stats.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        pid = json.loads(stats.read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        lines = _wait_for_line(demo, "worker alerts exited with status -9")
        lines += _wait_for_line(demo, "health: published")
        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=60)
        assert demo.returncode == 0
        first = json.loads((tmp_path / "demo.json").read_text())
        assert first["live_published"] > 0

        demo, env = _start_demo(tmp_path, env)
        lines = _wait_for_line(demo, "live: 4 patients at 600x")
        assert any(line.startswith("resuming: 4 patients") for line in lines)
        assert not any(line.startswith("published") for line in lines)  # no second backfill
        _wait_for_line(demo, "health: published")
        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=60)
        assert demo.returncode == 0
        second = json.loads((tmp_path / "demo.json").read_text())
        assert second["sim_now_ms"] > first["sim_now_ms"]  # the clock went on, not back
        assert second["live_published"] > first["live_published"]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        _stop_stack(env)
