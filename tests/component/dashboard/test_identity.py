"""The page's user, as the served dashboard reads it from the request that opened the page."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import Any

from glucosestream.dashboard import resources
from glucosestream.dashboard.identity import Viewer, header
from glucosestream.dashboard.server import serve_dashboard
from tests.component.dashboard.lake import Lake
from tests.integration.conftest import free_port
from tests.unit.dashboard.test_identity import SUB


def test_the_app_reads_the_headers_of_the_request_that_opened_the_page(lake: Lake) -> None:
    """bokeh_app/main.py hands ``session_context.request.headers`` to the identity reader."""
    seen: list[Mapping[str, Any]] = []
    server = serve_dashboard(lake.settings, port=free_port())
    try:
        shared = resources.shared()
        shared.identify = lambda headers: (seen.append(dict(headers)), Viewer(SUB))[1]
        request = urllib.request.Request(
            f"{server.url}?view=privacy", headers={"x-amzn-oidc-identity": SUB}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.stop()
    assert len(seen) == 1
    assert header(seen[0], "x-amzn-oidc-identity") == SUB
