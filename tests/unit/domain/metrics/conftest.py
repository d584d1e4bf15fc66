"""The iglu-python oracle fixture."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def iglu() -> Any:
    """iglu-python, set to read naive times as UTC (else it uses the machine's zone)."""
    module = pytest.importorskip("iglu_python")
    module.utils.set_local_tz("UTC")
    module.utils.set_iglu_r_compatible(True)
    return module
