"""Realistic readings for tests: a Dexcom-like 5-minute trace with a meal rise and a night dip."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import (
    GlucoseReading,
    ReadingSource,
    ReadingStatus,
    Trend,
    sensor_status,
)
from stream.simulator import NO_TRANSPORT_FAULTS, CohortConfig, build_cohort, simulate_readings
from stream.simulator.sensor import STATUSES

TEST_KEY = b"test-pseudonym-key-0123456789abcdef"
START_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z
FIVE_MINUTES_MS = 5 * 60 * 1000


def patient(number: int) -> str:
    return pseudonymise(f"clinic-7/patient-{number:04d}", TEST_KEY)


def reading(**overrides: Any) -> GlucoseReading:
    values: dict[str, Any] = {
        "patient_id": patient(1),
        "device_id": "dexcom-g6-8RK2QF",
        "session_id": "8RK2QF-2026-01-03",
        "measured_at": START_MS,
        "utc_offset_minutes": 60,
        "glucose_mg_dl": 112,
        "status": ReadingStatus.OK,
        "trend": Trend.FLAT,
        "source": ReadingSource.CGM,
        "produced_at": START_MS + 4_000,
    }
    values.update(overrides)
    return GlucoseReading(**values)


def trace(patient_number: int, count: int, start_ms: int = START_MS) -> list[GlucoseReading]:
    """``count`` 5-minute readings: fasting ~110, a post-meal rise to ~210, a dip to ~62."""
    base = reading(patient_id=patient(patient_number), device_id=f"dexcom-{patient_number:04d}")
    readings = []
    for index in range(count):
        minute = index * 5
        meal = 100 * math.exp(-((((minute % 1440) - 480) / 60) ** 2))
        dip = -50 * math.exp(-((((minute % 1440) - 180) / 40) ** 2))
        value = round(110 + meal + dip + 4 * math.sin(index / 3))
        status = sensor_status(value)
        at = start_ms + index * FIVE_MINUTES_MS
        readings.append(
            replace(
                base,
                measured_at=at,
                produced_at=at + 3_000,
                glucose_mg_dl=value,
                status=status,
                event_id="",
            )
        )
    return readings


def cohort_period_readings(patients: int, days: float, seed: int = 7) -> pa.Table:
    """A simulated cohort's readings in the columns of ``sql/curated/period_readings.sql``.

    Dexcom- and Libre-like sensors, a dozen time zones, sensor artefacts (gaps, compression
    lows, out-of-range lows and highs); warm-up and calibration readings are left out, as they
    do not count in metrics. No transport faults: one row per reading identity, as curated
    readings are.
    """
    config = CohortConfig(patients=patients, days=days, seed=seed, faults=NO_TRANSPORT_FAULTS)
    cohort = build_cohort(config)
    patient_ids = np.array([p.patient_id for p in cohort], dtype=object)
    device_ids = np.array([p.device_id for p in cohort], dtype=object)
    parts = []
    for batch in simulate_readings(config, cohort):
        uncounted = [STATUSES.index(s) for s in (ReadingStatus.WARMUP, ReadingStatus.CALIBRATION)]
        part = batch.take(np.flatnonzero(~np.isin(batch.status, uncounted)))
        parts.append(
            pa.table(
                {
                    "patient_id": pa.array(patient_ids[part.patient], pa.string()),
                    "device_id": pa.array(device_ids[part.patient], pa.string()),
                    "measured_at": pa.array(part.measured_at, pa.timestamp("ms", tz="UTC")),
                    "local_time": pa.array(
                        part.measured_at + part.utc_offset * 60_000, pa.timestamp("ms")
                    ),
                    "glucose_mg_dl": pa.array(part.glucose.astype(np.float64), pa.float64()),
                }
            )
        )
    return pa.concat_tables(parts)
