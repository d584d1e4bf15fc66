"""The local stack's moto server: its module list is read once (keep-alive: see
tests/integration/test_local_stack.py)."""

from __future__ import annotations

import os

import moto.backends
import pytest

from glucosestream.local import moto_server


def test_moto_lists_its_service_modules_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto.backends, "list_of_moto_modules", moto.backends.list_of_moto_modules)
    listed = list(moto.backends.list_of_moto_modules())
    moto_server.list_service_modules_once()

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr(os, "listdir", no_listing)
    assert list(moto.backends.list_of_moto_modules()) == listed
    assert {"dynamodb", "sns", "sqs", "s3", "glue", "athena"} <= set(listed)
