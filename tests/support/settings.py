"""Settings for a test: local mode, env ``test``, state (lake, checkpoints) under the test's own
temporary directory. A plugin (see ``tests/conftest.py``): every test may ask for ``settings``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glucosestream.settings import ResourceNames, Settings, load_settings


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


AWS_MODE_ENV = "t"
AWS_MODE_PSEUDONYM_KEY = "k" * 32


@pytest.fixture
def aws_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """aws mode against moto in this process: test credentials, the ``GS_*`` variables (for code
    that reads its settings from the environment, like the CLI and the handlers), and the
    stack's resources provisioned as the local stack provisions them."""
    from moto import mock_aws

    from glucosestream.local.provision import provision

    names = ResourceNames(env=AWS_MODE_ENV)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "GS_MODE": "aws",
        "GS_ENV": AWS_MODE_ENV,
        "GS_STATE_DIR": str(tmp_path),
        "GS_PSEUDONYM_KEY": AWS_MODE_PSEUDONYM_KEY,
        "GS_ALERTS_TOPIC_ARN": f"arn:aws:sns:us-east-1:123456789012:{names.alerts_topic}",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        settings = load_settings()
        provision(settings)
        yield settings
