"""The benchmarks still run: every script under bench/ imports (a renamed function it uses
fails here, not in the next `make bench`), and the in-process ones run to their verdict on tiny
inputs. Behaviour only: what they print, never how fast."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from glucosestream.resources import project_path

BENCH = project_path("bench")


@pytest.mark.parametrize("script", sorted(p.stem for p in BENCH.glob("*.py")))
def test_every_benchmark_imports(script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    importlib.import_module(script)


@pytest.mark.parametrize(
    ("script", "arguments", "verdict"),
    [
        ("metrics", ["--patients", "4", "--days", "1", "--iglu-patients", "0"], "target full"),
        ("grid_metrics", ["--patients", "4", "--days", "1", "--runs", "1"], "ratio: grid / floor"),
        ("codec", ["--records", "2000"], "ratio"),
        ("local_time", ["--readings", "3000"], "ratio"),
        ("simulate", ["--patients", "3", "--days", "0.5"], "ratio"),
    ],
)
def test_in_process_benchmarks_run_to_their_verdict_on_tiny_inputs(
    script: str, arguments: list[str], verdict: str
) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / f"{script}.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(BENCH).parent,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert verdict in run.stdout
