"""Hand-made raw zone files for the ELT tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.lake.raw_zone.schema import ERASURES, TREATMENTS, parquet_schema
from glucosestream.settings import Settings

MINUTE_MS = 60_000


def ms(text: str) -> int:
    """Epoch ms of a UTC ``YYYY-MM-DDTHH:MM``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Raw:
    patient_id: str
    measured_at: int
    glucose_mg_dl: int
    produced_at: int | None = None
    utc_offset_minutes: int = 0
    status: str = "OK"
    source: str = "CGM"
    device_id: str = "d1"

    def row(self) -> dict[str, object]:
        produced = self.measured_at if self.produced_at is None else self.produced_at
        return {
            "event_id": f"{self.patient_id}-{self.measured_at}",
            "patient_id": self.patient_id,
            "device_id": self.device_id,
            "session_id": "s1",
            "measured_at": self.measured_at,
            "utc_offset_minutes": self.utc_offset_minutes,
            "glucose_mg_dl": self.glucose_mg_dl,
            "status": self.status,
            "trend": "FLAT",
            "source": self.source,
            "produced_at": produced,
            "ingested_at": produced + 1000,
        }


def day_of_readings(patient: str, day: str, glucose: int = 120) -> list[Raw]:
    """24 readings of a patient, 5 minutes apart from 06:00 UTC of ``day``."""
    start = ms(f"{day}T06:00")
    return [Raw(patient, start + i * 5 * MINUTE_MS, glucose + (i % 7)) for i in range(24)]


def write_raw(settings: Settings, name: str, readings: list[Raw]) -> list[Path]:
    """One Parquet file per (dt, hour) of the readings, as Firehose lays them out."""
    groups: dict[tuple[str, str], list[Raw]] = {}
    for reading in readings:
        when = datetime.fromtimestamp(reading.measured_at / 1000, tz=UTC)
        groups.setdefault((when.strftime("%Y-%m-%d"), when.strftime("%H")), []).append(reading)
    paths = []
    root = settings.lake_dir / settings.names.raw_readings_prefix
    for (dt, hour), rows in sorted(groups.items()):
        directory = root / f"dt={dt}" / f"hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([r.row() for r in rows], schema=parquet_schema())
        path = directory / f"{name}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Version:
    treatment_id: str
    treated_at: int
    modified_at: int
    insulin_units: float | None = None
    carbs_g: float | None = None
    is_valid: bool = True
    event_type: str = "Meal Bolus"
    patient_id: str = "p_1"
    utc_offset_minutes: int = 60

    def row(self, ingested_at: int) -> dict[str, Any]:
        return {
            "treatment_id": self.treatment_id,
            "patient_id": self.patient_id,
            "event_type": self.event_type,
            "treated_at": self.treated_at,
            "utc_offset_minutes": self.utc_offset_minutes,
            "insulin_units": self.insulin_units,
            "carbs_g": self.carbs_g,
            "entered_by": "xdrip",
            "is_valid": self.is_valid,
            "modified_at": self.modified_at,
            "produced_at": self.modified_at,
            "ingested_at": ingested_at,
        }


def write_versions(settings: Settings, name: str, versions: list[Version]) -> None:
    """One Parquet file per (dt, hour) of treated_at, as the treatments delivery lays them out."""
    groups: dict[tuple[str, str], list[Version]] = {}
    for version in versions:
        when = datetime.fromtimestamp(version.treated_at / 1000, tz=UTC)
        groups.setdefault((when.strftime("%Y-%m-%d"), when.strftime("%H")), []).append(version)
    root = settings.lake_dir / settings.names.raw_treatments_prefix
    for (dt, hour), rows in groups.items():
        directory = root / f"dt={dt}" / f"hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [v.row(v.modified_at + 500) for v in rows],
            schema=parquet_schema(TREATMENTS.columns()),
        )
        pq.write_table(table, directory / f"{name}.parquet")


def write_erasures(settings: Settings, name: str, erased: list[Raw], erased_at: int) -> None:
    """Erasures of these readings, as the erasures delivery lays them out (by measured_at)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for reading in erased:
        when = datetime.fromtimestamp(reading.measured_at / 1000, tz=UTC)
        row = {
            "patient_id": reading.patient_id,
            "device_id": reading.device_id,
            "measured_at": reading.measured_at,
            "erased_at": erased_at,
            "requested_by": "nightscout",
            "produced_at": erased_at,
            "ingested_at": erased_at + 500,
        }
        groups.setdefault((when.strftime("%Y-%m-%d"), when.strftime("%H")), []).append(row)
    root = settings.lake_dir / settings.names.raw_erasures_prefix
    for (dt, hour), rows in groups.items():
        directory = root / f"dt={dt}" / f"hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=parquet_schema(ERASURES.columns()))
        pq.write_table(table, directory / f"{name}.parquet")
