"""The container's health check: ``python -m glucosestream.dashboard.healthcheck``.

GETs the app's metadata route (``/bokeh_app/metadata``) on the port the server listens on
(``GS_DASHBOARD_PORT``, 5006 by default): Bokeh answers it from the application without opening
a session, so a probe every 30 s never builds a document or runs a query, yet fails when the
server or the app is not up. Exit status 0 when healthy, 1 with a one-line reason otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

PORT_ENV = "GS_DASHBOARD_PORT"
DEFAULT_PORT = 5006
APP_PATH = "/bokeh_app"
"""Where ``bokeh serve bokeh_app`` mounts the app."""
HEALTH_PATH = f"{APP_PATH}/metadata"


def check(port: int, timeout_s: float = 4.0) -> str | None:
    """None when the dashboard answers on ``port``; else why not."""
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as error:
        return f"{url}: {type(error).__name__}: {error}"
    if body.get("url") != APP_PATH:
        return f"{url}: unexpected answer {body!r}"
    return None


def main() -> int:
    try:
        port = int(os.environ.get(PORT_ENV, DEFAULT_PORT))
    except ValueError:
        print(f"unhealthy: {PORT_ENV} is not a port number", file=sys.stderr)
        return 1
    problem = check(port)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
