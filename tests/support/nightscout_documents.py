"""The Nightscout document store as a dict (the DocumentStore port), for tests that do not need
moto; ``tests/component/adapters/test_nightscout_documents.py`` runs one contract against both."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from glucosestream.ingest.api.documents import Document


class InMemoryDocuments:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[tuple[int, str], Document]] = {}
        self.log: dict[tuple[str, str], dict[tuple[int, str], Document]] = {}
        self.puts = 0
        self._lock = threading.Lock()

    def put(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        with self._lock:
            self.puts += 1
            stored = self.items.setdefault((patient_id, collection), {})
            log = self.log.setdefault((patient_id, collection), {})
            for document in documents:
                stored[(document.date_ms, document.identifier)] = document
                if document.modified_ms is not None:
                    log[(document.modified_ms, document.identifier)] = document

    def remove(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        with self._lock:
            stored = self.items.get((patient_id, collection), {})
            for document in documents:
                stored.pop((document.date_ms, document.identifier), None)

    def newest(
        self,
        patient_id: str,
        collection: str,
        *,
        date_from: int | None = None,
        date_to: int | None = None,
        limit: int,
    ) -> list[Document]:
        with self._lock:
            stored = self.items.get((patient_id, collection), {})
            keys = sorted(
                (
                    key
                    for key in stored
                    if (date_from is None or key[0] >= date_from)
                    and (date_to is None or key[0] <= date_to)
                ),
                reverse=True,
            )
            return [stored[key] for key in keys[:limit]]

    def with_identifiers(
        self, patient_id: str, collection: str, identifiers: Iterable[str]
    ) -> list[Document]:
        wanted = set(identifiers)
        with self._lock:
            stored = self.items.get((patient_id, collection), {})
            return [stored[key] for key in sorted(stored) if key[1] in wanted]

    def modified_since(
        self, patient_id: str, collection: str, since_ms: int, limit: int
    ) -> list[Document]:
        with self._lock:
            log = self.log.get((patient_id, collection), {})
            return [log[key] for key in sorted(k for k in log if k[0] > since_ms)[:limit]]

    def last_modified(self, patient_id: str, collection: str) -> int | None:
        with self._lock:
            log = self.log.get((patient_id, collection), {})
            return max((key[0] for key in log), default=None)
