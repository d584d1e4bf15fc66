"""The local stack's moto server: its module list is read once, and requests are logged only
when they fail."""

from __future__ import annotations

import logging
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


def test_requests_are_logged_only_when_they_fail() -> None:
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    try:
        moto_server.log_requests_only_when_they_fail()
        assert not werkzeug.isEnabledFor(logging.INFO)
        assert werkzeug.isEnabledFor(logging.WARNING)
    finally:
        werkzeug.setLevel(level)
