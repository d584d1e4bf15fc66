"""Hand-made ``period_readings`` for the mart tests (the shape ``metrics_report`` loads)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from glucosestream.elt.marts import mart_query
from glucosestream.local.athena import LocalAthena

# (patient_id, measured_at UTC, utc_offset_minutes, glucose mg/dL); no duplicates.
Reading = tuple[str, datetime, int, float]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def period_readings(readings: Sequence[Reading]) -> pa.Table:
    measured = [r[1] for r in readings]
    local = [(r[1] + timedelta(minutes=r[2])).replace(tzinfo=None) for r in readings]
    return pa.table(
        {
            "patient_id": pa.array([r[0] for r in readings], pa.string()),
            "device_id": pa.array(["dev-1"] * len(readings), pa.string()),
            "measured_at": pa.array(measured, pa.timestamp("ms", tz="UTC")),
            "local_time": pa.array(local, pa.timestamp("ms")),
            "glucose_mg_dl": pa.array([r[3] for r in readings], pa.float64()),
        }
    )


def run_mart(
    mart: str, readings: Sequence[Reading], key: str
) -> dict[tuple[str, Any], dict[str, Any]]:
    """Rows of ``mart`` over ``readings``, keyed by (patient_id, the ``key`` column), the mart
    composed as the pipeline composes it (:func:`glucosestream.elt.marts.mart_query`)."""
    engine = LocalAthena()
    engine.register("period_readings", period_readings(readings))
    rows = engine.run(mart_query(engine.database, mart)).to_pylist()
    return {(row.pop("patient_id"), row.pop(key)): row for row in rows}
