"""The command reads its settings from GS_* variables: the tests start without any."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GS_"):
            monkeypatch.delenv(name)
