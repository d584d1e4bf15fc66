"""The deploy rehearsal: envs/dev applied to a local moto server, read back, destroyed (~2.5 min).

moto lacks two Step Functions calls the provider makes; ``moto_rehearsal.py`` answers them
(ValidateStateMachineDefinition: OK; ListStateMachineVersions: the empty list, which is true).
Nothing is targeted out at present: every resource of envs/dev, dashboard included, is applied.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.terraform.conftest import load_tool


def test_apply_and_destroy_against_moto(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the rehearsal did not run")
    if not Path(sys.executable).with_name("moto_server").exists():
        pytest.skip("moto_server is not installed (the project's local extra)")
    rehearsal = load_tool("moto_rehearsal")
    with rehearsal.moto_server() as endpoint:
        report = rehearsal.rehearse(tmp_path, endpoint, None)
    assert not rehearsal.UNSUPPORTED
    assert report["applied"] > 100
    assert report["apply_summary"] == [
        f"Apply complete! Resources: {report['applied']} added, 0 changed, 0 destroyed."
    ]
    assert report["state_machine"] == "gs-dev-pipeline"
    assert report["definition_has_placeholders"] is False
    assert len(report["functions"]) == 4
    assert report["event_source_mappings"] == 1
    assert report["left_after_destroy"] is False
