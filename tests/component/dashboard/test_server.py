"""serve_dashboard: serves the app on 127.0.0.1 and stops completely."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from glucosestream.dashboard.server import serve_dashboard
from tests.component.dashboard.lake import Lake
from tests.integration.conftest import free_port


def test_serves_every_view_then_stops(lake: Lake) -> None:
    port = free_port()
    server = serve_dashboard(lake.settings, port=port)
    try:
        assert server.url == f"http://127.0.0.1:{port}/"
        for view in ("report", "cohort", "privacy", "live"):
            with urllib.request.urlopen(f"{server.url}?view={view}", timeout=10) as response:
                assert response.status == 200
                assert b"bokeh" in response.read().lower()
    finally:
        server.stop()
    assert not server.thread.is_alive()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=2)
