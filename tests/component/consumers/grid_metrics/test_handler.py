"""The grid-metrics Lambda's imports, in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from glucosestream.resources import PROJECT_ROOT

FORBIDDEN = ("duckdb", "sqlglot", "glucosestream.local")


def test_the_handler_imports_no_local_engine() -> None:
    script = (
        "import json, sys\n"
        "import consumers.grid_metrics.handler\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    loaded = json.loads(done.stdout)
    assert "consumers.grid_metrics.handler" in loaded
    assert {"numpy", "pyarrow", "glucosestream.elt.grid_metrics"} <= set(loaded)
    assert [m for m in loaded for f in FORBIDDEN if m == f or m.startswith(f"{f}.")] == []
