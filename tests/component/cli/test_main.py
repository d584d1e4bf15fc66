"""The console script and ``python -m glucosestream.cli``, run as processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("glucosestream")
    result = subprocess.run(
        [str(script), "local", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice: 'nope'" in result.stderr


def test_the_package_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "glucosestream.cli", "local", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("glucosestream local: error: ")
    assert "invalid choice: 'nope'" in result.stderr


def _pool_after_a_command(env: dict[str, str]) -> str:
    """The allocator pyarrow uses in a process that ran the console script's entry point."""
    code = (
        "import sys; from glucosestream.cli.main import console; "
        "sys.argv = ['glucosestream', 'settings']; console(); "
        "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return result.stdout.splitlines()[-1]


def test_the_console_script_uses_the_c_librarys_allocator_unless_told() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    assert _pool_after_a_command(env) == "system"
    assert _pool_after_a_command({**env, "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}) == "jemalloc"
