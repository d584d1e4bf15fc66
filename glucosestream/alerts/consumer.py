"""The alerts consumer's application logic: decode a batch, apply the engine per patient with one
conditional state write each, then publish what was recorded. Boto3-free: the state store and
the topic are injected (``consumers/alerts/handler.py`` wires the real ones).

Exactly-once recording, at-least-once publishing: an alert is first written to the patient's
outbox in the same conditional write that advances the engine state (so a retried batch finds it
recorded and does not raise it again), then published, then removed from the outbox. A publish
that fails leaves it in the outbox and fails the batch from that patient's first record; the
redelivery publishes it. Only a crash between a successful publish and the outbox clean-up can
publish twice; every message carries its deterministic ``alert_id`` for subscribers to dedupe.

Pages first: every patient of the batch is evaluated before any write (pure, no I/O), then the
patients with something to page are written and published before the quiet ones are written,
and the outbox clean-ups come last. A batch's alerts so leave after the writes of the patients
that page, not after the whole batch's (the batch still returns only once every write is done).
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from glucosestream.alerts.ports import Publisher, StateConflict, StateStore, StoredState
from glucosestream.contract.codec import Codec, default_codec
from glucosestream.contract.records import UndecodableRecord, decode_record
from glucosestream.domain.alerts import (
    Alert,
    AlertConfig,
    AlertReading,
    Evaluation,
    PatientAlertState,
    evaluate,
)
from glucosestream.domain.alerts.eligibility import may_alert
from glucosestream.domain.alerts.patient_settings import AlertSettings, InvalidAlertSettings


@dataclass(frozen=True, slots=True)
class InboundRecord:
    sequence_number: str
    partition_key: str
    data: bytes
    arrived_at_ms: int


@dataclass
class BatchOutcome:
    first_failed: int | None = None
    """Index of the first record that must be redelivered (it and all after it)."""
    poison: bool = False
    """The first failure is an undecodable record (retrying cannot help)."""
    reason: str | None = None
    readings: int = 0
    skipped_status: int = 0
    duplicates: int = 0
    alerts: list[Alert] = field(default_factory=list)
    published: int = 0
    suppressed: int = 0
    state_writes: int = 0
    conflicts: int = 0
    unusable_settings: int = 0
    """Patients whose stored settings could not be read (their alerts used the defaults)."""

    def fail_from(self, index: int, reason: str, *, poison: bool = False) -> None:
        if self.first_failed is None or index < self.first_failed:
            self.first_failed, self.reason, self.poison = index, reason, poison

    def add(self, part: BatchOutcome) -> None:
        """Fold in one patient's counts (computed on a worker thread)."""
        if part.first_failed is not None:
            self.fail_from(part.first_failed, part.reason or "", poison=part.poison)
        self.duplicates += part.duplicates
        self.alerts.extend(part.alerts)
        self.published += part.published
        self.suppressed += part.suppressed
        self.state_writes += part.state_writes
        self.conflicts += part.conflicts
        self.unusable_settings += part.unusable_settings


@dataclass(frozen=True, slots=True)
class _Evaluated:
    """One patient's readings applied to a stored state, not yet written."""

    candidate: StoredState | None
    """What to write; None: a pure redelivery, which changes nothing."""
    evaluation: Evaluation
    now_s: int

    @property
    def pages(self) -> bool:
        """The write carries alerts to publish (new ones, or an earlier batch's unpublished)."""
        return self.candidate is not None and bool(self.candidate.outbox)


@dataclass(slots=True)
class _PatientWork:
    """One patient's share of a batch through its phases, and its counts."""

    stored: StoredState
    items: list[tuple[int, AlertReading]]
    part: BatchOutcome = field(default_factory=BatchOutcome)
    first: _Evaluated | None = None
    saved: StoredState | None = None
    published: set[str] = field(default_factory=set)

    @property
    def readings(self) -> list[AlertReading]:
        return [reading for _, reading in self.items]

    @property
    def pages(self) -> bool:
        """Its first write carries alerts to publish."""
        return self.first is not None and self.first.pages

    def fail(self, error: Exception) -> None:
        """Any failure redelivers this patient's records (and, per shard, all after them)."""
        self.part.fail_from(self.items[0][0], type(error).__name__)


class AlertConsumer:
    def __init__(
        self,
        store: StateStore,
        publisher: Publisher,
        config: AlertConfig | None = None,
        *,
        codec: Codec | None = None,
        clock: Callable[[], float] = time.time,
        max_conflicts: int = 5,
        concurrency: int = 8,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.config = config or AlertConfig()
        self.codec = codec or default_codec()
        self.clock = clock
        self.max_conflicts = max_conflicts
        self.concurrency = concurrency

    def process(self, records: Sequence[InboundRecord]) -> BatchOutcome:
        outcome = BatchOutcome()
        by_patient: dict[str, list[tuple[int, AlertReading]]] = defaultdict(list)
        for index, record in enumerate(records):
            try:
                readings = decode_record(record.data, record.partition_key, self.codec)
            except UndecodableRecord as error:
                # Stop at the first failure: later records wait for it, per-shard order holds.
                outcome.fail_from(index, f"undecodable record ({error.kind})", poison=True)
                break
            for reading in readings:
                outcome.readings += 1
                if not may_alert(reading.status):
                    outcome.skipped_status += 1
                    continue
                by_patient[reading.patient_id].append(
                    (
                        index,
                        AlertReading(
                            measured_at=reading.measured_at,
                            glucose_mg_dl=reading.glucose_mg_dl,
                            arrived_at=record.arrived_at_ms,
                            device_id=reading.device_id,
                            utc_offset_minutes=reading.utc_offset_minutes,
                        ),
                    )
                )
        if not by_patient:
            return outcome
        stored = self.store.load_many(list(by_patient))
        work = [_PatientWork(stored[pid], items) for pid, items in by_patient.items()]
        for patient in work:
            try:
                patient.first = self._evaluate(patient, patient.stored)
            except Exception as error:
                patient.fail(error)
        to_write = [p for p in work if p.first is not None]
        # Stable: patients keep their batch order within each group. The pool takes tasks in
        # submission order, so the writes and publishes of those who page start first.
        to_write.sort(key=lambda patient: not patient.pages)
        # Patients are independent: their state round trips overlap (boto3 clients are
        # thread-safe), which is most of a batch's time. A pool per batch: batches processed
        # at once (shards, locally in one process) must not queue one's pages behind the
        # other's quiet writes.
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="patient") as pool:
            for _ in pool.map(self._record_and_publish, to_write):
                pass
            for _ in pool.map(self._clear_published, [p for p in work if p.published]):
                pass
        for patient in work:
            outcome.add(patient.part)
        return outcome

    def _record_and_publish(self, patient: _PatientWork) -> None:
        try:
            patient.saved = self._apply(patient)
            self._publish_outbox(patient)
        except Exception as error:
            patient.fail(error)

    def _clear_published(self, patient: _PatientWork) -> None:
        try:
            assert patient.saved is not None  # only what was saved can have been published
            self._clear_outbox(patient.saved, patient.published, patient.part)
        except Exception as error:
            patient.fail(error)

    def _evaluate(self, patient: _PatientWork, stored: StoredState) -> _Evaluated:
        """The patient's readings applied to ``stored`` (what was loaded, or what a concurrent
        write left)."""
        state = PatientAlertState.from_dict(stored.state) if stored.state else PatientAlertState()
        now_ms = int(self.clock() * 1000)
        config = self._patient_config(stored, patient.part)
        evaluation = evaluate(state, stored.patient_id, patient.readings, now_ms, config)
        patient.part.duplicates += evaluation.duplicates
        if evaluation.merged == 0 and stored.version and not stored.outbox:
            return _Evaluated(None, evaluation, now_ms // 1000)
        candidate = dataclasses.replace(
            stored,
            state=state.to_dict(),
            outbox=[*stored.outbox, *(a.to_record() for a in evaluation.alerts)],
        )
        return _Evaluated(candidate, evaluation, now_ms // 1000)

    def _apply(self, patient: _PatientWork) -> StoredState:
        """Record the patient's first evaluation, re-evaluating on the state a concurrent write
        left, up to ``max_conflicts`` times."""
        stored, evaluated, outcome = patient.stored, patient.first, patient.part
        for _ in range(self.max_conflicts):
            if evaluated is None:
                evaluated = self._evaluate(patient, stored)
            if evaluated.candidate is None:
                return stored  # a pure redelivery changes nothing: no write
            try:
                saved = self.store.save(evaluated.candidate, evaluated.now_s)
            except StateConflict:
                outcome.conflicts += 1
                stored, evaluated = self.store.load(stored.patient_id), None
                continue
            outcome.state_writes += 1
            outcome.alerts.extend(evaluated.evaluation.alerts)
            outcome.suppressed += len(evaluated.evaluation.suppressed)
            return saved
        raise StateConflict(f"gave up after {self.max_conflicts} concurrent writes")

    def _patient_config(self, stored: StoredState, outcome: BatchOutcome) -> AlertConfig:
        """The consumer's config with the patient's own settings, read with the state, so a
        change applies from the next reading. Settings are validated where they are written;
        should a stored document still be unusable, the defaults page rather than nothing."""
        if not stored.settings:
            return self.config
        try:
            return AlertSettings.from_dict(stored.settings).applied_to(self.config)
        except InvalidAlertSettings:
            outcome.unusable_settings += 1
            return self.config

    def _publish_outbox(self, patient: _PatientWork) -> None:
        """Publishes the saved outbox in order, stopping at the first failure (raised); what
        was published is cleared from the outbox once every patient is saved."""
        assert patient.saved is not None
        for record in patient.saved.outbox:
            self.publisher.publish(Alert.from_record(record))
            patient.published.add(record["alert_id"])
            patient.part.published += 1

    def _clear_outbox(
        self, stored: StoredState, published: set[str], outcome: BatchOutcome
    ) -> None:
        for _ in range(self.max_conflicts):
            remaining = [a for a in stored.outbox if a["alert_id"] not in published]
            try:
                self.store.save(dataclasses.replace(stored, outbox=remaining), int(self.clock()))
                outcome.state_writes += 1
                return
            except StateConflict:
                outcome.conflicts += 1
                stored = self.store.load(stored.patient_id)
        raise StateConflict("could not clear the outbox")
