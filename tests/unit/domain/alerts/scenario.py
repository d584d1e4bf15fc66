"""Build readings for alert scenarios: values at a cadence, arriving when measured."""

from __future__ import annotations

from glucosestream.domain.alerts import AlertReading

T0 = 1_767_571_200_000  # 2026-01-05T00:00Z
MIN = 60_000


def series(values: list[int], start_min: float = 0, cadence_min: float = 5) -> list[AlertReading]:
    return [
        AlertReading(
            measured_at=T0 + round((start_min + i * cadence_min) * MIN),
            glucose_mg_dl=v,
            arrived_at=T0 + round((start_min + i * cadence_min) * MIN) + 20_000,
            device_id="dex-1",
        )
        for i, v in enumerate(values)
    ]


def at(minute: float) -> int:
    return T0 + round(minute * MIN)
