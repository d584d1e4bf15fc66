"""Fault injection on the local stack (issue 11): nothing lost, nothing doubled, no alert missing
or repeated, whatever is killed or however the stream misbehaves.

Every scenario streams a simulated cohort through the real worker processes and balances the
books (:mod:`tests.faults.harness`); each writes its counts to ``test-artifacts/faults-*.json``.
The unmarked scenarios are the representative subset ``make test`` runs; ``faults_long`` ones
(more patients, random kills, several seeds) run with ``make test-faults``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import GlucoseReading, ReadingSource, ReadingStatus, Trend
from glucosestream.local import stack
from glucosestream.settings import Settings
from stream.simulator import CohortConfig, simulate
from stream.simulator.config import TransportFaults
from tests.faults.harness import Scenario, restart_kinesis_after
from tests.integration.conftest import stack_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[Settings]:
    settings = stack_settings(tmp_path / "state", env="faults")
    stack.up(settings)
    try:
        yield settings
    finally:
        stack.down(settings)


def cohort_batches(
    patients: int,
    days: float,
    *,
    seed: int = 3,
    faults: TransportFaults | None = None,
    batch_size: int = 60,
    fallers: int = 2,
) -> list[list[GlucoseReading]]:
    """The cohort's readings in arrival order, as an uploader would post them in batches, with
    ``fallers`` extra patients who fall into a hypo every few hours (so every scenario has
    alerts to compare, whatever the simulated cohort does)."""
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - now_ms % 60_000
    config = CohortConfig(
        patients=patients,
        days=days,
        seed=seed,
        start_ms=start_ms,
        faults=faults or TransportFaults(),
    )
    deliveries = [(d.arrival_at, d.reading) for d in simulate(config)]
    deliveries += [(r.measured_at, r) for r in falling_patients(fallers, start_ms, days)]
    readings = [r for _, r in sorted(deliveries, key=lambda pair: pair[0])]
    return [readings[i : i + batch_size] for i in range(0, len(readings), batch_size)]


FALL = [110, 104, 96, 88, 80, 72, 66, 60, 55, 51, 49, 58, 70, 85, 100, 110]
"""mg/dL every 5 minutes: URGENT_LOW_SOON, LOW, URGENT_LOW, then RECOVERED."""


def falling_patients(count: int, start_ms: int, days: float) -> list[GlucoseReading]:
    key = b"faults-fallers-key-0123456789abcdef"
    readings = []
    steps = int(days * 288)
    for index in range(count):
        patient = pseudonymise(f"faller-{index}", key)
        for step in range(steps):
            cycle = (step + index * 11) % 48  # one fall every 4 hours
            value = FALL[cycle] if cycle < len(FALL) else 110
            measured = start_ms + step * 300_000
            readings.append(
                GlucoseReading(
                    patient, f"faller-device-{index}", "s1", measured, 0, value,
                    ReadingStatus.OK, Trend.FLAT, ReadingSource.CGM, measured,
                )
            )  # fmt: skip
    return readings


def assert_balanced(scenario: Scenario) -> None:
    report = scenario.settle()
    assert report.readings_in > 0
    assert report.missing_from_raw == [], report.line()
    assert report.raw_identities == report.readings_in, report.line()
    assert report.quarantined == report.undecodable_in, report.line()
    assert report.curated_rows == report.curated_identities == report.readings_in, report.line()
    assert report.missing_alerts == [], report.line()
    assert report.unexpected_alerts == [], report.line()
    assert report.doubled_alerts == [], report.line()
    assert report.balanced


def test_each_worker_killed_mid_stream_loses_and_doubles_nothing(local_stack: Settings) -> None:
    batches = cohort_batches(patients=8, days=1.0)
    with Scenario(local_stack, "workers_killed") as scenario:
        scenario.publish_in_background(batches, pause_s=0.08)
        for name in ("alerts", "firehose", "pipeline", "alerts", "firehose"):
            time.sleep(1.5)
            scenario.kill(name)
        scenario.wait_for_producer()
        scenario.drain()
        assert_balanced(scenario)
        assert scenario.report.alerts_expected > 0  # the comparison is not vacuous


def test_stream_faults_duplicates_reordering_late_garbage_and_a_retry_storm(
    local_stack: Settings,
) -> None:
    faults = TransportFaults(
        duplicate_rate=0.05, late_rate=0.02, reorder_rate=0.05, outages_per_day=1.0,
        max_late_minutes=180,
    )  # fmt: skip
    batches = cohort_batches(patients=8, days=1.0, seed=5, faults=faults)
    # A producer retry storm: every fifth batch is sent three times (a client that never saw
    # the acknowledgements), with new event ids but the same readings.
    stormy: list[list[GlucoseReading]] = []
    for index, batch in enumerate(batches):
        stormy.append(batch)
        if index % 5 == 0:
            stormy += [[replace(r, event_id="") for r in batch] for _ in range(2)]
    with Scenario(local_stack, "stream_faults") as scenario:
        scenario.publish_in_background(stormy, pause_s=0.02)
        scenario.put_garbage(7)
        scenario.wait_for_producer()
        scenario.put_garbage(3)
        scenario.drain()
        assert_balanced(scenario)
        assert scenario.report.undecodable_in == 10
        assert scenario.report.alerts_expected > 0


def test_kinesis_down_for_a_while_the_producer_backs_off_and_everyone_catches_up(
    local_stack: Settings,
) -> None:
    batches = cohort_batches(patients=6, days=1.0, seed=9)
    with Scenario(local_stack, "kinesis_down") as scenario:
        scenario.publish_in_background(batches, pause_s=0.08)
        time.sleep(2.0)
        restart = restart_kinesis_after(local_stack, down_s=4.0)
        restarter = threading.Thread(target=restart)
        restarter.start()
        restarter.join()
        scenario.wait_for_producer()
        scenario.drain()
        assert_balanced(scenario)
        assert scenario.report.producer_retries > 0  # it did hit the outage and retried


def test_consumers_started_while_kinesis_is_down_wait_for_it_and_catch_up(
    local_stack: Settings,
) -> None:
    batches = cohort_batches(patients=3, days=0.5, seed=5)
    with Scenario(local_stack, "started_while_kinesis_down") as scenario:
        scenario.publish_in_background(batches, pause_s=0.02)
        scenario.wait_for_producer()
        restart = restart_kinesis_after(local_stack, down_s=6.0)
        for name in ("alerts", "firehose"):
            scenario.kill(name, down_s=0.1)  # started again, with Kinesis gone
        time.sleep(4.0)  # their first shard listings are refused meanwhile
        for name in ("alerts", "firehose"):
            assert scenario.workers[name].exited() is None, f"{name} died waiting for Kinesis"
        restart()
        scenario.drain()
        assert_balanced(scenario)


@pytest.mark.faults_long
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_kills_of_random_workers_over_a_longer_stream(
    local_stack: Settings, seed: int
) -> None:
    faults = TransportFaults(duplicate_rate=0.02, reorder_rate=0.02, late_rate=0.01)
    batches = cohort_batches(patients=20, days=2.0, seed=seed, faults=faults)
    with Scenario(local_stack, f"random_kills_{seed}", seed=seed) as scenario:
        scenario.publish_in_background(batches, pause_s=0.05)
        scenario.put_garbage(5)
        scenario.chaos_until_published(["alerts", "firehose", "pipeline"], every_s=(0.5, 3.0))
        scenario.wait_for_producer()
        scenario.drain(timeout_s=240)
        assert_balanced(scenario)
        assert sum(scenario.report.kills.values()) >= 3


def test_a_corrupt_device_stops_the_pipeline_and_the_marts_stay_at_the_last_good_run(
    local_stack: Settings,
) -> None:
    clean = cohort_batches(patients=4, days=1.0, seed=21)
    with Scenario(local_stack, "dq_gate") as scenario:
        scenario.publish_in_background(clean, pause_s=0.0)
        scenario.wait_for_producer()
        scenario.drain()
        good = scenario.wait_for_pipeline("SUCCEEDED")
        marts = scenario.marts_snapshot()
        assert marts, "the good run published marts"

        chattering = [
            [replace(r, measured_at=r.measured_at + offset, event_id="") for r in batch]
            # seed 26: a 5-minute (Dexcom-like) sensor, 288 readings a day; tripled, 864
            for batch in cohort_batches(patients=1, days=1.0, seed=26, fallers=0)
            for offset in (0, 20_000, 40_000)
        ]
        scenario.producer_done.clear()
        scenario.publish_in_background(chattering, pause_s=0.0)
        scenario.wait_for_producer()
        scenario.drain()
        failed = scenario.wait_for_pipeline("FAILED", after_run=good)
        assert scenario.marts_snapshot() == marts  # the marts of the last good run, untouched
        notes = scenario.pipeline_notifications()
        assert any("readings_per_patient_day" in note for note in notes), notes
        scenario.report.kills = {}
        scenario.report.save_extra(
            {"last_good_run": good, "stopped_run": failed, "notifications": len(notes)}
        )
