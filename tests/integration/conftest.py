"""The local stack on free loopback ports, in a temporary state directory; always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glucosestream.local import stack
from glucosestream.local.processes import free_port
from glucosestream.settings import Settings, load_settings


def stack_settings(state_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "state_dir": state_dir,
        "kinesis_port": free_port(),
        "moto_port": free_port(),
        "env": "it",
    }
    return load_settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = stack_settings(tmp_path_factory.mktemp("stack"))
    stack.up(settings)
    try:
        yield settings
    finally:
        stack.down(settings)


@pytest.fixture
def stack_env(running_stack: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The running stack, with the GS_* variables that make the CLI and handlers use it."""
    for name, value in {
        "GS_STATE_DIR": running_stack.state_dir,
        "GS_KINESIS_PORT": running_stack.kinesis_port,
        "GS_MOTO_PORT": running_stack.moto_port,
        "GS_ENV": running_stack.env,
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, str(value))
    return running_stack
