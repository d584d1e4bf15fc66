"""What people change in a patient's alerting: the alert settings, and acknowledgements.

Both live in the patient's state item beside the engine state, written through the same
:class:`~glucosestream.alerts.ports.StateStore` with the same optimistic concurrency as the
consumer: a change and a batch of readings never overwrite each other (the loser re-reads and
retries), so a setting applies from the next reading the consumer evaluates, and an
acknowledgement is seen by the next repeat decision. Boto3-free: the ingest API, the CLI and the
dashboard inject the store.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from glucosestream.alerts.ports import StateConflict, StateStore, StoredState
from glucosestream.domain.alerts import PatientAlertState
from glucosestream.domain.alerts.acknowledgement import AcknowledgeResult, acknowledge
from glucosestream.domain.alerts.patient_settings import AlertSettings


class PatientAlertControls:
    def __init__(
        self,
        store: StateStore,
        *,
        clock: Callable[[], float] = time.time,
        max_conflicts: int = 5,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_conflicts = max_conflicts

    def settings(self, patient_id: str) -> AlertSettings:
        return AlertSettings.from_dict(self.store.load(patient_id).settings)

    def update_settings(self, patient_id: str, changes: Mapping[str, Any]) -> AlertSettings:
        """Apply ``changes`` (JSON values) to the patient's settings and store them.

        Raises ``InvalidAlertSettings`` before anything is written: a refused change stores
        nothing.
        """
        updated: AlertSettings | None = None

        def change(stored: StoredState) -> StoredState | None:
            nonlocal updated
            updated = AlertSettings.from_dict(stored.settings).updated(changes)
            if stored.version and updated.to_dict() == stored.settings:
                return None  # already so: no write
            return dataclasses.replace(stored, settings=updated.to_dict())

        self._read_modify_write(patient_id, change)
        assert updated is not None
        return updated

    def acknowledge(self, patient_id: str, alert_id: str, by: str) -> AcknowledgeResult:
        """Record the acknowledgement (idempotent); raises ``UnknownAlert``."""
        result: AcknowledgeResult | None = None

        def change(stored: StoredState) -> StoredState | None:
            nonlocal result
            state = (
                PatientAlertState.from_dict(stored.state) if stored.state else PatientAlertState()
            )
            result = acknowledge(state, alert_id, int(self.clock() * 1000), by)
            if not result.new:
                return None
            return dataclasses.replace(stored, state=state.to_dict())

        self._read_modify_write(patient_id, change)
        assert result is not None
        return result

    def _read_modify_write(
        self, patient_id: str, change: Callable[[StoredState], StoredState | None]
    ) -> None:
        for _ in range(self.max_conflicts):
            stored = self.store.load(patient_id)
            changed = change(stored)
            if changed is None:
                return
            try:
                self.store.save(changed, int(self.clock()))
                return
            except StateConflict:
                continue
        raise StateConflict(f"gave up after {self.max_conflicts} concurrent writes")
