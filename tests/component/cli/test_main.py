"""The installed console script, run as a process."""

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
