"""Transport faults: duplicates, late and out-of-order delivery, arrival order, no loss."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from stream.simulator import (
    NO_TRANSPORT_FAULTS,
    CohortConfig,
    Delivery,
    ReadingBatch,
    TransportFaults,
    build_cohort,
    simulate,
    simulate_readings,
)

FAULTY = TransportFaults(
    duplicate_rate=0.05, late_rate=0.02, reorder_rate=0.05, outages_per_day=0.0
)


def _identities(config: CohortConfig) -> list[tuple[str, str, int]]:
    cohort = build_cohort(config)
    batch = ReadingBatch.concat(list(simulate_readings(config, cohort)))
    return [
        (cohort[col].patient_id, cohort[col].device_id, measured)
        for col, measured in zip(batch.patient.tolist(), batch.measured_at.tolist(), strict=True)
    ]


@pytest.fixture(scope="module")
def faulty() -> tuple[CohortConfig, list[Delivery]]:
    config = CohortConfig(patients=20, days=3, seed=21, faults=FAULTY)
    return config, list(simulate(config))


def test_arrivals_are_non_decreasing_and_after_measurement(
    faulty: tuple[CohortConfig, list[Delivery]],
) -> None:
    _, deliveries = faulty
    assert deliveries
    arrivals = np.array([d.arrival_at for d in deliveries])
    assert np.all(np.diff(arrivals) >= 0)
    assert all(d.arrival_at >= d.reading.measured_at for d in deliveries)
    assert all(d.arrival_at >= d.reading.produced_at for d in deliveries)


def test_every_reading_is_delivered_at_least_once(
    faulty: tuple[CohortConfig, list[Delivery]],
) -> None:
    config, deliveries = faulty
    simulated = _identities(config)
    delivered = {d.reading.identity for d in deliveries}
    assert set(simulated) == delivered
    assert len(simulated) == len(set(simulated))


def test_duplicate_rate_matches_config(faulty: tuple[CohortConfig, list[Delivery]]) -> None:
    _, deliveries = faulty
    counts = Counter(d.reading.identity for d in deliveries)
    n = len(counts)
    duplicates = sum(c - 1 for c in counts.values())
    sd = np.sqrt(n * FAULTY.duplicate_rate * (1 - FAULTY.duplicate_rate))
    assert abs(duplicates - n * FAULTY.duplicate_rate) <= 4 * sd
    # A duplicate is the same record sent again: identical reading, later arrival.
    first: dict[tuple[str, str, int], Delivery] = {}
    for d in deliveries:
        earlier = first.setdefault(d.reading.identity, d)
        if earlier is not d:
            assert earlier.reading == d.reading
            assert d.arrival_at >= earlier.arrival_at


def test_late_readings_arrive_after_later_measured_ones(
    faulty: tuple[CohortConfig, list[Delivery]],
) -> None:
    _, deliveries = faulty
    by_patient: dict[str, list[Delivery]] = {}
    seen: set[tuple[str, str, int]] = set()
    for d in deliveries:
        if d.reading.identity in seen:
            continue  # a duplicate is a re-send, not a late first delivery
        seen.add(d.reading.identity)
        by_patient.setdefault(d.reading.patient_id, []).append(d)
    late = 0
    n = 0
    for items in by_patient.values():
        measured = np.array([d.reading.measured_at for d in items])
        arrival = np.array([d.arrival_at for d in items])
        n += len(items)
        # Beyond any reorder delay (one cadence plus ~1.5 min): these were held back.
        for i in np.flatnonzero(arrival - measured >= 30 * 60_000):
            late += 1
            if measured[i] == measured.max():
                continue  # nothing was measured after the last reading
            overtaken = (measured > measured[i]) & (arrival < arrival[i])
            assert overtaken.any()
    # Late delays are log-uniform between 10 min and max_late_minutes.
    share_beyond_30 = np.log(FAULTY.max_late_minutes / 30) / np.log(FAULTY.max_late_minutes / 10)
    expected = n * FAULTY.late_rate * share_beyond_30
    assert abs(late - expected) <= 4 * np.sqrt(expected) + 5
    # Out of order within a patient's stream happens at about the reorder (plus late) rate.
    inversions = 0
    for items in by_patient.values():
        measured = np.array([d.reading.measured_at for d in items])
        inversions += int(np.sum(np.diff(measured) < 0))
    assert inversions > 0.5 * FAULTY.reorder_rate * n


def test_outage_backlog_arrives_together_when_the_phone_reconnects() -> None:
    faults = TransportFaults(
        duplicate_rate=0.0, late_rate=0.0, reorder_rate=0.0, outages_per_day=3.0
    )
    config = CohortConfig(patients=5, days=2, seed=8, faults=faults)
    deliveries = list(simulate(config))
    delays = np.array([d.arrival_at - d.reading.measured_at for d in deliveries])
    held = delays > 15 * 60_000
    assert held.sum() > 20
    # A backlog is released in a burst: many held readings arrive within seconds of another.
    arrivals = np.array([d.arrival_at for d in deliveries])[held]
    assert np.mean(np.diff(np.sort(arrivals)) < 10_000) > 0.5
    assert len({d.reading.identity for d in deliveries}) == len(deliveries)


def test_without_faults_each_reading_arrives_once_within_seconds() -> None:
    config = CohortConfig(patients=6, days=1, seed=5, faults=NO_TRANSPORT_FAULTS)
    deliveries = list(simulate(config))
    assert [d.reading.identity for d in deliveries] != []
    assert len({d.reading.identity for d in deliveries}) == len(deliveries)
    assert sorted(d.reading.identity for d in deliveries) == sorted(_identities(config))
    for d in deliveries:
        assert 3_000 <= d.arrival_at - d.reading.measured_at <= 30_000
        assert d.reading.produced_at == d.arrival_at
