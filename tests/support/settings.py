"""Settings for a test: local mode, env ``test``, state (lake, checkpoints) under the test's own
temporary directory. A plugin (see ``tests/conftest.py``): every test may ask for ``settings``."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(state_dir=tmp_path / "state", env="test")


@pytest.fixture
def pipeline_handler_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline Lambda handler reads its settings from the environment (and caches them):
    point it at ``settings``' state directory and env."""
    monkeypatch.setenv("GS_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("GS_ENV", settings.env)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    from consumers.pipeline import handler

    handler._settings.cache_clear()
