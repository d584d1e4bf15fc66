"""A view's document built as a page request would build it (no browser, no server)."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from bokeh.document import Document

from glucosestream.dashboard import app
from glucosestream.dashboard.identity import LOCAL_VIEWER, Viewer
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.privacy_ledger import PrivacyLedger
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.runner import InlineRunner
from glucosestream.local.privacy_ledger import FilePrivacyLedger
from glucosestream.settings import load_settings

BUDGET = 3.0


def fresh_ledger() -> FilePrivacyLedger:
    return FilePrivacyLedger(Path(tempfile.mkdtemp()) / "ledger.json", Decimal(repr(BUDGET)))


def build(
    queries: LakeQueries,
    *,
    ledger: PrivacyLedger | None = None,
    viewer: Viewer = LOCAL_VIEWER,
    **arguments: str,
) -> tuple[Document, object]:
    doc = Document()
    live = LiveFeed(load_settings(env="test"))
    view = app.build(
        doc,
        queries,
        live,
        InlineRunner(),
        {name: [value.encode()] for name, value in arguments.items()},
        ledger=ledger or fresh_ledger(),
        viewer=viewer,
    )
    return doc, view


def document_text(doc: Document) -> str:
    return json.dumps(doc.to_json(), default=str)
