"""In-memory implementations of the alerts ports (``glucosestream.alerts.ports``) for tests."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence

from glucosestream.alerts.ports import StateConflict, StoredState
from glucosestream.domain.alerts import Alert


class InMemoryStates:
    """The StateStore port as a dict. A save must find the version it read, or it raises
    :class:`StateConflict`, as the DynamoDB store's conditional write does.

    ``before_save`` (when set) runs before each save reaches the table: a concurrent writer's
    turn. It may call ``save`` itself (not re-entered while it runs)."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredState] = {}
        self.before_save: Callable[[StoredState], None] | None = None
        self.writes = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._in_hook = threading.local()

    def load(self, patient_id: str) -> StoredState:
        with self._lock:
            return copy.deepcopy(self.rows.get(patient_id, StoredState(patient_id)))

    def load_many(self, patient_ids: Sequence[str]) -> dict[str, StoredState]:
        return {patient_id: self.load(patient_id) for patient_id in patient_ids}

    def save(self, stored: StoredState, now_s: int) -> StoredState:
        if self.before_save is not None and not getattr(self._in_hook, "active", False):
            self._in_hook.active = True
            try:
                self.before_save(stored)
            finally:
                self._in_hook.active = False
        with self._lock:
            current = self.rows.get(stored.patient_id, StoredState(stored.patient_id)).version
            if current != stored.version:
                self.refused += 1
                raise StateConflict(f"{stored.patient_id}: version {current}, not {stored.version}")
            saved = copy.deepcopy(stored)
            saved.version += 1
            self.rows[stored.patient_id] = saved
            self.writes += 1
            return copy.deepcopy(saved)


class Topic:
    """The Publisher port: keeps what it sent; ``fail`` says which publish calls (numbered from 1,
    over the topic's life) and which patients' alerts raise instead."""

    def __init__(
        self,
        fail_calls: set[int] | None = None,
        fail_patients: set[str] | None = None,
    ) -> None:
        self.sent: list[Alert] = []
        self.calls = 0
        self.fail_calls = fail_calls or set()
        self.fail_patients = fail_patients or set()
        self._lock = threading.Lock()

    def publish(self, alert: Alert) -> str:
        with self._lock:
            self.calls += 1
            if self.calls in self.fail_calls or alert.patient_id in self.fail_patients:
                raise RuntimeError("SNS unavailable")
            self.sent.append(alert)
            return f"message-{len(self.sent)}"
