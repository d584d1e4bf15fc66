"""The alerts consumer's ports: where a patient's alert state is kept, and where alerts go.

Implementations: :class:`glucosestream.adapters.patient_state.PatientStateStore` (DynamoDB,
optimistic concurrency on ``version``) and :class:`glucosestream.adapters.alert_topic.AlertTopic`
(SNS); the tests use in-memory ones. The consumer depends on these, never on an adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from glucosestream.domain.alerts import Alert


class StateConflict(RuntimeError):
    """Another writer changed the patient's state since it was read."""


@dataclass
class StoredState:
    """One patient's alert state as stored: the engine's state and the outbox of alerts recorded
    but not yet confirmed published, at a version that a save must still find."""

    patient_id: str
    version: int = 0
    """0: nothing stored yet."""
    state: dict[str, Any] | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] | None = None
    """The patient's alert settings (``AlertSettings.to_dict``); None: the defaults."""


class StateStore(Protocol):
    def load_many(self, patient_ids: Sequence[str]) -> dict[str, StoredState]: ...
    def load(self, patient_id: str) -> StoredState: ...
    def save(self, stored: StoredState, now_s: int) -> StoredState:
        """Writes ``stored`` if the stored version is still ``stored.version`` (raises
        :class:`StateConflict` otherwise) and returns it at the next version."""
        ...


class Publisher(Protocol):
    def publish(self, alert: Alert) -> str:
        """Sends one alert; returns the message id."""
        ...
