"""Fixtures shared by the ingest tests (defined in tests/unit/ingest/support.py)."""

from tests.unit.ingest.support import make_service, stream

__all__ = ["make_service", "stream"]
