"""Shared builders for the ingest tests: a service with a fake publisher and a fixed clock."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.ingest.api.auth import ApiKeys, NightscoutSecret, sha256_hex
from glucosestream.ingest.api.ratelimit import RateLimiter
from glucosestream.ingest.api.service import Answer, IngestService, Limits, StreamUnavailable
from glucosestream.ingest.lake_entries import EntryArchive
from tests.support.alert_ports import InMemoryStates
from tests.support.nightscout_documents import InMemoryDocuments

KEY = b"test-pseudonym-key-0123456789abcdef"
NOW_MS = 1_767_600_000_000  # 2026-01-05T08:00:00Z
CLINIC_KEY = "clinic-7-uploader-key-7f3a9c"
HOME_KEY = "home-alice-key-0b5e1d44"
NIGHTSCOUT_SECRET = "correct-horse-battery"
KEY_DOCUMENT = {
    "keys": [
        {
            "id": "clinic-7-uploader",
            "tenant": "clinic-7",
            "sha256": sha256_hex(CLINIC_KEY),
            "patient_prefix": "clinic-7/",
        },
        {
            "id": "home-alice",
            "tenant": "alice",
            "sha256": sha256_hex(HOME_KEY),
            "patients": ["alice"],
        },
    ]
}


@dataclass
class FakePublisher:
    """The ingest service's ``publish`` (readings onto the stream) or ``publish_treatments``:
    records what it took; ``fail_after`` makes it fail part-way. Not a stream to read, unlike
    :class:`tests.support.shards.FakeShards`."""

    taken: list[Any] = field(default_factory=list)
    fail_after: int | None = None
    calls: int = 0

    def __call__(self, readings: list[Any]) -> None:
        self.calls += 1
        if self.fail_after is not None:
            self.taken.extend(readings[: self.fail_after])
            raise StreamUnavailable("ServiceUnavailable", sent=min(self.fail_after, len(readings)))
        self.taken.extend(readings)


def reading_item(**overrides: object) -> dict[str, object]:
    item: dict[str, object] = {
        "patient_id": "clinic-7/patient-0001",
        "device_id": "dexcom-g7-9QX7LM",
        "session_id": "9QX7LM-2026-01-03",
        "measured_at": NOW_MS - 300_000,
        "utc_offset_minutes": 60,
        "glucose": 112,
        "unit": "mg/dL",
        "trend": "FLAT",
    }
    item.update(overrides)
    return item


@pytest.fixture
def stream() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def treatments_stream() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def erasures_stream() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def alert_states() -> InMemoryStates:
    return InMemoryStates()


@pytest.fixture
def documents() -> InMemoryDocuments:
    return InMemoryDocuments()


@pytest.fixture
def make_service(
    stream: FakePublisher,
    treatments_stream: FakePublisher,
    erasures_stream: FakePublisher,
    alert_states: InMemoryStates,
    documents: InMemoryDocuments,
) -> Callable[..., IngestService]:
    def build(
        *,
        rate_per_s: float = 1000.0,
        burst: int = 1000,
        limits: Limits | None = None,
        entry_archive: EntryArchive | None = None,
    ) -> IngestService:
        return IngestService(
            keys=ApiKeys.from_document(KEY_DOCUMENT),
            nightscout_secret=NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"),
            publish=stream,
            documents=documents,
            limiter=RateLimiter(rate_per_s, burst, clock=lambda: 0.0),
            pseudonym_key=KEY,
            limits=limits or Limits(max_body_bytes=64 * 1024, max_items=300, max_count=100),
            clock_ms=lambda: NOW_MS,
            alert_controls=PatientAlertControls(alert_states, clock=lambda: NOW_MS / 1000),
            entry_archive=entry_archive,
            publish_treatments=treatments_stream,
            publish_erasures=erasures_stream,
        )

    return build


NIGHTSCOUT_API_SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
"""The ``api-secret`` header Nightscout uploaders send: the SHA-1 of the secret."""


def site_patient(service: IngestService) -> str:
    """The pseudonym the Nightscout site's patient is stored under (documents are keyed by it)."""
    principal = service.nightscout_caller(NIGHTSCOUT_API_SECRET)
    assert not isinstance(principal, Answer)
    return service.site_pseudonym(principal)
