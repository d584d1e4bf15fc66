"""Serve the dashboard from Python: a Bokeh server for ``bokeh_app/`` on 127.0.0.1, in a thread.

handle = serve_dashboard(settings, port=5006)
print(handle.url)
...
handle.stop()
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from glucosestream.dashboard import resources
from glucosestream.resources import project_path
from glucosestream.settings import Settings

APP_DIR = project_path("bokeh_app")
HOST = "127.0.0.1"
DEFAULT_PORT = 5006


@dataclass
class DashboardServer:
    """A running dashboard; :meth:`stop` ends the server, its sessions and the live feed."""

    port: int
    thread: threading.Thread
    _loop: Any = field(repr=False)
    _server: Any = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def stop(self, timeout_s: float = 10.0) -> None:
        def shut_down() -> None:
            self._server.stop()
            self._loop.stop()

        self._loop.add_callback(shut_down)
        self.thread.join(timeout=timeout_s)
        resources.close()


def serve_dashboard(
    settings: Settings,
    port: int = DEFAULT_PORT,
    *,
    alerts_queue: str | None = None,
    privacy_only: bool | None = None,
    timeout_s: float = 30.0,
) -> DashboardServer:
    """Start the dashboard server for ``settings`` and return once it accepts connections.

    ``alerts_queue`` names the SQS queue the live view drains (default: the alerts feed queue);
    ``privacy_only`` serves nothing but the locked privacy view (default: the
    ``GS_DASHBOARD_PRIVACY_ONLY`` variable). One server per process (its sessions share
    module-level resources).
    """
    from bokeh.application import Application
    from bokeh.application.handlers.directory import DirectoryHandler
    from bokeh.server.server import Server
    from tornado.ioloop import IOLoop

    resources.configure(settings, alerts_queue=alerts_queue, privacy_only=privacy_only)
    started = threading.Event()
    state: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            loop = IOLoop.current()
            application = Application(DirectoryHandler(filename=str(APP_DIR)))
            server = Server(
                {"/": application},
                io_loop=loop,
                address=HOST,
                port=port,
                allow_websocket_origin=[f"{HOST}:{port}", f"localhost:{port}"],
            )
            server.start()
            state.update(loop=loop, server=server)
        except BaseException as error:
            state["error"] = error
            raise
        finally:
            started.set()
        loop.start()
        loop.close(all_fds=True)

    thread = threading.Thread(target=run, name="dashboard-server", daemon=True)
    thread.start()
    if not started.wait(timeout_s) or "error" in state:
        raise RuntimeError(f"dashboard server did not start: {state.get('error')}")
    return DashboardServer(port=port, thread=thread, _loop=state["loop"], _server=state["server"])


def serve_until_interrupted(settings: Settings, port: int = DEFAULT_PORT) -> int:
    """``glucosestream dashboard``: serve until Ctrl-C, then stop everything; exit status 0."""
    server = serve_dashboard(settings, port)
    print(f"dashboard: {server.url} (Ctrl-C to stop)", flush=True)
    try:
        while server.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
