"""What every session of one dashboard server shares: settings, the query adapter, the thread
pool that runs queries off the event loop, and the live feed.

Created once per server (``bokeh_app/app_hooks.py`` or :func:`serve_dashboard`); settings come
from :func:`configure` when served programmatically, else from the ``GS_*`` environment, so
``bokeh serve bokeh_app`` works on its own.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.queries import LakeQueries, engine_for
from glucosestream.settings import Settings, load_settings

QUERY_THREADS = 4
PRIVACY_ONLY_ENV = "GS_DASHBOARD_PRIVACY_ONLY"
"""Set to 1 for a dashboard that serves only the privacy view (aggregates shared outside the
care team): every URL gets it, and privacy mode cannot be switched off."""


@dataclass
class Resources:
    settings: Settings
    queries: LakeQueries
    executor: ThreadPoolExecutor
    live: LiveFeed
    privacy_only: bool = False

    def close(self) -> None:
        self.live.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)


_lock = threading.Lock()
_configured: Settings | None = None
_alerts_queue: str | None = None
_privacy_only: bool | None = None
_shared: Resources | None = None


def configure(
    settings: Settings | None,
    *,
    alerts_queue: str | None = None,
    privacy_only: bool | None = None,
) -> None:
    """Use these settings for the next :func:`shared` (None: back to the environment),
    optionally another alerts queue than ``settings.names.dashboard_alerts_queue``, and privacy-only
    mode (None: from :data:`PRIVACY_ONLY_ENV`)."""
    global _configured, _alerts_queue, _privacy_only
    close()
    with _lock:
        _configured = settings
        _alerts_queue = alerts_queue
        _privacy_only = privacy_only


def shared() -> Resources:
    global _shared
    with _lock:
        if _shared is None:
            settings = _configured or load_settings()
            live = LiveFeed(settings, alerts_queue=_alerts_queue)
            _shared = Resources(
                settings=settings,
                queries=LakeQueries(engine_for(settings)),
                executor=ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="dashboard-query"),
                live=live,
                privacy_only=(
                    os.environ.get(PRIVACY_ONLY_ENV, "").lower() in {"1", "true"}
                    if _privacy_only is None
                    else _privacy_only
                ),
            )
            live.start()
        return _shared


def close() -> None:
    global _shared
    with _lock:
        if _shared is not None:
            _shared.close()
            _shared = None
