"""``glucosestream alerts replay``: the alert engine over a CSV, readings arriving when measured."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from glucosestream.domain.alerts import Alert, AlertConfig, AlertReading
from glucosestream.domain.alerts.replay import replay
from glucosestream.ingest.files.readings_csv import CsvReading
from glucosestream.lake.durable_files import atomic_text_file


def iso(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")[:-6]
        + "Z"
    )


def alert_line(alert: Alert) -> str:
    record = alert.to_record()
    record["measured_at"] = iso(alert.measured_at)
    record["episode_start"] = iso(alert.episode_start)
    record["raised_at"] = iso(alert.raised_at)
    return json.dumps(record, separators=(",", ":"))


def replay_rows(
    rows: Sequence[CsvReading], target: Path, config: AlertConfig | None = None
) -> list[Alert]:
    """Replay CSV readings through the engine; write one JSON alert per line to ``target``."""
    pairs = [
        (
            row.patient_id,
            AlertReading(
                measured_at=row.measured_at,
                glucose_mg_dl=round(row.glucose_mg_dl),
                arrived_at=row.measured_at,
                device_id=row.device_id,
                utc_offset_minutes=row.utc_offset_minutes,
            ),
        )
        for row in rows
    ]
    alerts = replay(pairs, config)
    with atomic_text_file(target, durable=False) as out:
        for alert in alerts:
            out.write(alert_line(alert) + "\n")
    return alerts


def summary(readings: int, alerts: list[Alert], target: Path) -> str:
    kinds = Counter(a.kind.value for a in alerts)
    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    return f"replayed {readings} readings: {len(alerts)} alerts ({detail}) written to {target}"
