"""Shared by the benchmarks that need the local stack: one on free loopback ports, in a temporary
directory, always stopped."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glucosestream.local import stack
from glucosestream.local.processes import free_port
from glucosestream.settings import Settings, load_settings


@contextmanager
def temporary_stack(**overrides: object) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as state:
        values: dict[str, object] = {
            "state_dir": Path(state),
            "kinesis_port": free_port(),
            "moto_port": free_port(),
            "env": "bench",
        }
        settings = load_settings(**{**values, **overrides})
        stack.up(settings)
        try:
            yield settings
        finally:
            stack.down(settings)
