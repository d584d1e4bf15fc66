"""`glucosestream settings`: every resource name, never the pseudonym key."""

from __future__ import annotations

import json

import pytest

from glucosestream.cli.main import main


def test_settings_prints_every_name_and_hides_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_ENV", "qa")
    monkeypatch.setenv("GS_PSEUDONYM_KEY", "a-very-secret-key-of-32-characters!")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["resource_names"]["readings_stream"] == "gs-qa-readings"
    assert "a-very-secret" not in out
