"""The Nightscout read path's store: recent entries, treatments, device status, profiles and
foods per patient.

Every API instance reads and writes the same store (DynamoDB in both modes: moto's locally, the
real one in AWS; :class:`glucosestream.adapters.nightscout_documents.NightscoutDocuments`), so
two followers, or one follower across two requests, see the same data whichever instance
answers. Entries and device status expire after ``GS_INGEST_RECENT_DAYS`` (a DynamoDB TTL):
older readings are the lake's. Treatments, profiles and foods are kept (profiles and foods
are settings, never sent to the lake).

A document's identity is (patient, collection, date, identifier): writing it again replaces it,
so an uploader's retry stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

COLLECTIONS = ("entries", "treatments", "devicestatus", "profile", "food")


@dataclass(frozen=True, slots=True)
class Document:
    date_ms: int
    """The document's time (an entry's ``date``, a treatment's ``created_at``), UTC ms."""
    identifier: str
    body: dict[str, Any]
    """What a GET answers (JSON values)."""
    modified_ms: int | None = None
    """When the server stored it (API v3's ``srvModified``): the store also logs it under this
    time, for ``history`` (every version, oldest first; a client keeps the newest by identifier)."""


class DocumentStore(Protocol):
    def put(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        """Store (or replace, same identity) every document."""
        ...

    def remove(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        """Delete these documents' current versions (their history stays logged)."""
        ...

    def newest(
        self,
        patient_id: str,
        collection: str,
        *,
        date_from: int | None = None,
        date_to: int | None = None,
        limit: int,
    ) -> list[Document]:
        """Up to ``limit`` documents with ``date_from <= date_ms <= date_to``, newest first."""
        ...

    def with_identifiers(
        self, patient_id: str, collection: str, identifiers: Iterable[str]
    ) -> list[Document]:
        """Every current document of the collection with one of these identifiers, whatever
        its date (one an identifier, or one a date where a client sent it at two times),
        oldest first. Treatments (never expiring) are read by identifier; entries and device
        status (bounded by the retention) may be read by reading their collection."""
        ...

    def modified_since(
        self, patient_id: str, collection: str, since_ms: int, limit: int
    ) -> list[Document]:
        """Up to ``limit`` stored versions modified after ``since_ms``, oldest first."""
        ...

    def last_modified(self, patient_id: str, collection: str) -> int | None:
        """The newest modification time of the collection (None: nothing stored)."""
        ...
