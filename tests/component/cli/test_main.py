"""The console script and ``python -m glucosestream.cli``, run as processes."""

from __future__ import annotations

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
