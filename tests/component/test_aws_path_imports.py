"""On the aws path, the ELT, data-quality, pipeline, grid-metrics and dashboard code import no
part of the one-machine runtime, DuckDB or sqlglot (a fresh interpreter, as a cold start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AWS_PATH_MODULES = (
    "glucosestream.elt.refresh",
    "glucosestream.elt.plan",
    "glucosestream.elt.curate",
    "glucosestream.elt.marts",
    "glucosestream.elt.grid_stage",
    "glucosestream.elt.period_metrics",
    "glucosestream.elt.quality",
    "glucosestream.elt.steps",
    "glucosestream.elt.grid_metrics",
    "glucosestream.elt.grid_batch",
    "glucosestream.dashboard.queries",
    "glucosestream.dashboard.app",
    "glucosestream.dashboard.resources",
    "consumers.pipeline.handler",
    "consumers.grid_metrics.handler",
)


@pytest.mark.parametrize("module", AWS_PATH_MODULES)
def test_module_imports_nothing_local(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m in ('duckdb', 'sqlglot') "
        "or m.startswith('glucosestream.local')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"GS_MODE": "aws", "GS_PSEUDONYM_KEY": "k" * 32, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
