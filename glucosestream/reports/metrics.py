"""``glucosestream metrics``: the patient metrics of DESIGN.md §6 from an ``id,time,gl`` CSV.

The same engine and SQL as the pipeline: the CSV is loaded into the local Athena (DuckDB),
deduplicated by ``sql/staging/csv_readings.sql``, measured by
``sql/marts/patient_period_metrics.sql``; the grid metrics (CONGA, MODD, MAG, MAGE, active %,
episodes) come from :mod:`glucosestream.domain.metrics` over the same deduplicated readings.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

# Re-exported: the local ELT takes it from here.
from glucosestream.elt.grid_metrics import PatientSeries, patient_series
from glucosestream.elt.grid_metrics import grid_metrics as grid_metrics
from glucosestream.ingest.files.readings_csv import CsvReading
from glucosestream.lake.durable_files import atomic_text_file
from glucosestream.local.athena import LocalAthena

METRIC_COLUMNS = (
    "id", "n_readings", "days", "active_percent", "mean", "median", "sd", "cv", "gmi", "ea1c",
    "tbr_54", "tbr_70", "tir_70_180", "titr_70_140", "tar_180", "tar_250", "lbgi", "hbgi",
    "adrr", "j_index", "m_value", "grade", "gri", "mag", "modd", "conga_1", "conga_24", "mage",
    "hypo_lv1_episodes", "hypo_lv2_episodes", "hyper_lv1_episodes", "hyper_lv2_episodes",
)  # fmt: skip
"""Contract (DESIGN.md §6): the columns of ``metrics.csv``, in this order."""

MINUTE_MS = 60_000


def readings_table(rows: Sequence[CsvReading]) -> pa.Table:
    """CSV rows in the columns ``sql/staging/csv_readings.sql`` reads."""
    measured = np.array([r.measured_at for r in rows], dtype=np.int64)
    local = measured + np.array([r.utc_offset_minutes for r in rows], dtype=np.int64) * MINUTE_MS
    table = pa.table(
        {
            "patient_id": pa.array([r.patient_id for r in rows], pa.string()),
            "device_id": pa.array([r.device_id for r in rows], pa.string()),
            "measured_at": pa.array(measured, pa.timestamp("ms", tz="UTC")),
            "local_time": pa.array(local, pa.timestamp("ms")),
            "glucose_mg_dl": pa.array([r.glucose_mg_dl for r in rows], pa.float64()),
            "input_row": pa.array(np.arange(len(rows)), pa.int64()),
        }
    )
    return table


def load_readings(engine: LocalAthena, table: pa.Table) -> None:
    """Readings as ``csv_input``, then deduplicated as ``period_readings``."""
    engine.register("csv_input", table)
    engine.create_table("period_readings", "staging/csv_readings.sql")


def period_series(engine: LocalAthena) -> dict[str, PatientSeries]:
    """Each patient's series of the deduplicated ``period_readings`` (see PatientSeries)."""
    # The database name is a checked identifier; nothing else is interpolated.
    query = (
        "SELECT patient_id, device_id, measured_at, local_time, glucose_mg_dl "  # noqa: S608
        f"FROM {engine.database}.period_readings"
    )
    return patient_series(engine.connection.sql(query).to_arrow_table())


def local_series(engine: LocalAthena) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each patient's (continuous local time axis in epoch ms, glucose): see PatientSeries."""
    return {p: (s.times, s.glucose) for p, s in period_series(engine).items()}


def patient_metrics(rows: Sequence[CsvReading]) -> list[dict[str, Any]]:
    return metrics_of_table(readings_table(rows))


def metrics_of_table(table: pa.Table, workers: int | None = None) -> list[dict[str, Any]]:
    """The metrics of every patient in an Arrow table of readings (see :func:`readings_table`).

    ``workers``: processes for the grid metrics (default: one per core; pass 1 where processes
    cannot be forked, e.g. in Lambda). The SQL runs in DuckDB, which uses every core itself.
    """
    engine = LocalAthena()
    load_readings(engine, table)
    sql_rows = engine.query("marts/patient_period_metrics.sql").to_pylist()
    series = local_series(engine)
    patients = [row["patient_id"] for row in sql_rows]
    grids = _grid_metrics_of(
        [series[p] for p in patients], workers if workers is not None else os.cpu_count() or 1
    )
    out = []
    for row, grid in zip(sql_rows, grids, strict=True):
        patient = row.pop("patient_id")
        merged = {"id": patient, **row, **grid}
        out.append({column: merged[column] for column in METRIC_COLUMNS})
    return out


PARALLEL_FROM_PATIENTS = 64
"""Below this, starting processes costs more than it saves."""


def _grid_metrics_of(
    series: list[tuple[np.ndarray, np.ndarray]], workers: int
) -> list[dict[str, float]]:
    if workers <= 1 or len(series) < PARALLEL_FROM_PATIENTS:
        return [grid_metrics(times, glucose) for times, glucose in series]
    chunk = max(1, len(series) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(_grid_metrics_star, series, chunksize=chunk))


def _grid_metrics_star(pair: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    return grid_metrics(*pair)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def write_metrics(metrics: list[dict[str, Any]], target: Path) -> None:
    with atomic_text_file(target, newline="", durable=False) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(METRIC_COLUMNS)
        for row in metrics:
            writer.writerow([_cell(row[c]) for c in METRIC_COLUMNS])
