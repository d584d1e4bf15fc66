"""What every session of one dashboard server shares: settings, the query adapter, the thread
pool that runs queries off the event loop, the live feed, the privacy budget ledger, how a
page's user is identified and how the live view acknowledges an alert.

This is where the dashboard's composition root (``bokeh_app/``, :func:`serve_dashboard`) gets
its implementations: :func:`ledger_for` and :func:`viewer_for` (with
:func:`engine_for`) are the only places that look at the mode; :func:`acknowledger_for` builds
the one real acknowledger.

Created once per server (``bokeh_app/app_hooks.py`` or :func:`serve_dashboard`); settings come
from :func:`configure` when served programmatically, else from the ``GS_*`` environment, so
``bokeh serve bokeh_app`` works on its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from glucosestream.dashboard.identity import AlbIdentity, Headers, Viewer, local_viewer
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.privacy_ledger import PrivacyLedger, as_amount
from glucosestream.dashboard.queries import AthenaEngine, LakeQueries, QueryEngine
from glucosestream.dashboard.views.live import Acknowledger
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
    ledger: PrivacyLedger
    identify: Callable[[Headers], Viewer]
    privacy_only: bool = False
    acknowledge: Acknowledger | None = None

    def close(self) -> None:
        self.live.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)


def ledger_for(settings: Settings) -> PrivacyLedger:
    """The privacy budget ledger of the settings' mode: the DynamoDB table in aws mode, a JSON
    file under ``state_dir`` locally."""
    budget = as_amount(settings.privacy_budget_epsilon)
    if settings.mode == "aws":
        from glucosestream.adapters.clients import aws_client
        from glucosestream.adapters.privacy_ledger import DynamoDbPrivacyLedger

        return DynamoDbPrivacyLedger(
            aws_client("dynamodb", settings), settings.names.privacy_ledger_table, budget
        )
    from glucosestream.local.privacy_ledger import LEDGER_FILE, FilePrivacyLedger

    return FilePrivacyLedger(settings.state_dir / LEDGER_FILE, budget)


def viewer_for(settings: Settings) -> Callable[[Headers], Viewer]:
    """How a page's request headers name its user: the ALB's signed identity in aws mode, the
    one local user otherwise."""
    if settings.mode == "aws":
        return AlbIdentity(settings.region, settings.dashboard_alb_arn)
    return local_viewer


def acknowledger_for(settings: Settings, *, privacy_only: bool) -> Acknowledger | None:
    """The live view's acknowledger: the alerts use case over the patient-state table of the
    settings' stack (DynamoDB in aws mode, the local stack's otherwise). None for a privacy-only
    dashboard, which shows no alert and has no business writing patient state."""
    if privacy_only:
        return None
    from glucosestream.adapters.clients import aws_client
    from glucosestream.adapters.patient_state import PatientStateStore
    from glucosestream.alerts.patient_controls import PatientAlertControls

    store = PatientStateStore(aws_client("dynamodb", settings), settings.names.patient_state_table)
    return PatientAlertControls(store).acknowledge


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
            privacy_only = (
                os.environ.get(PRIVACY_ONLY_ENV, "").lower() in {"1", "true"}
                if _privacy_only is None
                else _privacy_only
            )
            _shared = Resources(
                settings=settings,
                queries=LakeQueries(engine_for(settings)),
                executor=ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="dashboard-query"),
                live=live,
                ledger=ledger_for(settings),
                identify=viewer_for(settings),
                privacy_only=privacy_only,
                acknowledge=acknowledger_for(settings, privacy_only=privacy_only),
            )
            live.start()
        return _shared


def close() -> None:
    global _shared
    with _lock:
        if _shared is not None:
            _shared.close()
            _shared = None


def engine_for(settings: Settings) -> QueryEngine:
    """The engine the settings' mode calls for (the composition root's one decision)."""
    if settings.mode == "aws":
        from glucosestream.adapters.clients import aws_client

        return AthenaEngine(aws_client("athena", settings), settings)
    from glucosestream.local.dashboard_engine import DuckDbEngine  # local mode only

    return DuckDbEngine(settings)
