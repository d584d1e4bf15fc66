"""`make run`'s job: stack up, cohort streamed and read back, clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glucosestream.local.processes import process_matches
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


def _start_demo(state_dir: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = {
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
        status = json.loads((tmp_path / "stack.json").read_text())
        assert any("every reading came back once, in per-patient order" in x for x in lines)
        published = next(x for x in lines if x.startswith("published"))
        read_back = next(x for x in lines if x.startswith("read back"))
        assert published.split()[1] == read_back.split()[2]
        assert int(published.split()[1]) > 0
        demo.send_signal(stop_signal)
        out, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
            # A killed demo cannot stop its stack: do it here, tests stop what they start.
            subprocess.run(
                [str(Path(sys.executable).with_name("glucosestream")), "local", "down"],
                env=env,
                capture_output=True,
                check=False,
            )
    assert demo.returncode == 0, out
    assert "stopped moto, kinesalite" in out
    health = [line for line in lines if line.startswith("health:")]
    assert "discarded 0" in health[-1]
    assert " rows + 0 errors in " in health[-1]
    for process in status["processes"].values():
        assert not process_matches(process["pid"], process["marker"])
    assert not (tmp_path / "stack.json").exists()
