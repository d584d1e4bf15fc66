"""Server lifecycle: the shared resources (query pool, live feed) live as long as the server."""

from typing import Any

from glucosestream.dashboard import resources


def on_server_loaded(server_context: Any) -> None:
    resources.shared()


def on_server_unloaded(server_context: Any) -> None:
    resources.close()
