"""Faulty devices, for testing the data-quality gate: valid readings, wrong data.

A *chattering* device reports every measurement three times, 20 and 40 seconds apart — each copy
a valid reading with its own identity, so nothing downstream can dedupe them, and the patient's
readings per day triple. The data-quality gate's ``readings_per_patient_day`` check must stop
the pipeline before such data reach a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from stream.simulator import Delivery

ECHO_OFFSETS_MS = (20_000, 40_000)


def chattering(deliveries: Iterable[Delivery], patient_ids: set[str]) -> Iterator[Delivery]:
    """The deliveries, with each reading of ``patient_ids`` echoed at +20 s and +40 s."""
    for delivery in deliveries:
        yield delivery
        reading = delivery.reading
        if reading.patient_id not in patient_ids:
            continue
        for offset in ECHO_OFFSETS_MS:
            echo = replace(reading, measured_at=reading.measured_at + offset, event_id="")
            yield Delivery(delivery.arrival_at, echo)
