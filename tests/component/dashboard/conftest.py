"""One small simulated lake for the whole dashboard test package (built once: ~2 s)."""

from __future__ import annotations

import pytest

from glucosestream.dashboard.queries import LakeQueries
from glucosestream.local.dashboard_engine import DuckDbEngine
from tests.component.dashboard.lake import Lake, build_lake


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return build_lake(tmp_path_factory.mktemp("dashboard-lake"), patients=6, days=28)


@pytest.fixture(scope="session")
def queries(lake: Lake) -> LakeQueries:
    return LakeQueries(DuckDbEngine(lake.settings))
