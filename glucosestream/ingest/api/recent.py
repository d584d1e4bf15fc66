"""The bounded recent-entries store behind ``GET /api/v1/entries.json``.

Nightscout uploaders and followers read back the latest readings. The stream is not a database,
so the API keeps the newest ``per_patient`` readings of at most ``max_patients`` patients in
memory (the least recently written patient is dropped first). Locally the API is one process, so
this is complete; in AWS each warm Lambda instance holds its own copy (a follower may miss
readings another instance took) — a DynamoDB table with a TTL is the shared store to add there.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Iterable

from glucosestream.domain.reading import GlucoseReading

DEFAULT_PER_PATIENT = 2016
"""A week of 5-minute readings."""
DEFAULT_MAX_PATIENTS = 10_000


class RecentReadings:
    """Newest readings per (pseudonymous) patient, sorted by ``measured_at``, one per identity."""

    def __init__(
        self, per_patient: int = DEFAULT_PER_PATIENT, max_patients: int = DEFAULT_MAX_PATIENTS
    ) -> None:
        if per_patient < 1 or max_patients < 1:
            raise ValueError("per_patient and max_patients must be >= 1")
        self.per_patient = per_patient
        self.max_patients = max_patients
        self._by_patient: OrderedDict[str, list[tuple[int, str, GlucoseReading]]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, readings: Iterable[GlucoseReading]) -> None:
        with self._lock:
            for reading in readings:
                rows = self._by_patient.pop(reading.patient_id, [])
                key = (reading.measured_at, reading.device_id)
                at = bisect.bisect_left(rows, key, key=lambda row: (row[0], row[1]))
                if at < len(rows) and (rows[at][0], rows[at][1]) == key:
                    rows[at] = (*key, reading)  # same identity: a retry, keep one
                else:
                    rows.insert(at, (*key, reading))
                del rows[: max(0, len(rows) - self.per_patient)]
                self._by_patient[reading.patient_id] = rows
                while len(self._by_patient) > self.max_patients:
                    self._by_patient.popitem(last=False)

    def latest(self, patient_id: str, count: int) -> list[GlucoseReading]:
        """The newest ``count`` readings of a patient, newest first (Nightscout's order)."""
        with self._lock:
            rows = self._by_patient.get(patient_id, [])
            return [row[2] for row in reversed(rows[-count:])] if count > 0 else []
