"""``glucosestream metrics``: the patient metrics of DESIGN.md §6 from an ``id,time,gl`` CSV.

The pipeline's ``patient_period_metrics`` over the CSV's readings, computed as the pipeline
computes the mart: the readings are deduplicated (each identity's first copy in file order,
:func:`glucosestream.elt.reading_order.first_copies`, which also puts them in the order the grid
metrics read) and loaded into an in-process engine (the CLI passes it in: DuckDB running the
Athena SQL); each patient's grid metrics (CONGA, MODD, MAG, MAGE, active %, episodes) come from
:func:`glucosestream.elt.grid_metrics.chunk_grid_metrics` and are joined with the SQL metrics of
``sql/marts/patient_period_metrics.sql`` by the mart's own query
(:func:`glucosestream.elt.period_metrics.period_metrics_query`).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from glucosestream.domain.metrics.iglu_profile import DATE_COLUMNS, IGLU_COLUMNS
from glucosestream.elt.grid_metrics import (
    READING_COLUMNS,
    PatientSeries,
    chunk_grid_metrics,
    chunk_iglu_profiles,
    grid_metrics_table,
    patient_series,
)
from glucosestream.elt.period_metrics import period_metrics_query, sql_metrics_query
from glucosestream.elt.reading_order import SeriesOrder, first_copies
from glucosestream.elt.tables import GRID_METRICS_STAGING
from glucosestream.ingest.files.readings_csv import CsvReading
from glucosestream.lake.durable_files import atomic_text_file
from glucosestream.warehouse.arrow_engine import ArrowEngine
from glucosestream.warehouse.sql_text import Statement

METRIC_COLUMNS = (
    "id", "n_readings", "days", "active_percent", "mean", "median", "sd", "cv", "gmi", "ea1c",
    "tbr_54", "tbr_70", "tir_70_180", "titr_70_140", "tar_180", "tar_250", "lbgi", "hbgi",
    "adrr", "j_index", "m_value", "grade", "gri", "mag", "modd", "conga_1", "conga_24", "mage",
    "hypo_lv1_episodes", "hypo_lv2_episodes", "hyper_lv1_episodes", "hyper_lv2_episodes",
)  # fmt: skip
"""Contract (DESIGN.md §6): the columns of ``metrics.csv``, in this order."""
PROFILES: dict[str, tuple[str, ...]] = {
    "default": METRIC_COLUMNS,
    "iglu": ("id", *IGLU_COLUMNS),
}
"""``--profile``: the columns each writes (``iglu``: every output of every R iglu 4.3.0
metric function, :mod:`glucosestream.domain.metrics.iglu_profile`)."""

CSV_RUN = "csv"
"""The CSV's grid metrics as one run's partition of ``grid_metrics_staging``."""
CSV_SQL_METRICS = "csv_sql_metrics"
"""The CSV's SQL metrics, computed while the grid metrics are, then joined with them."""

MINUTE_MS = 60_000


def readings_table(rows: Sequence[CsvReading] | pa.Table) -> pa.Table:
    """CSV readings — objects, or the columns of
    :attr:`~glucosestream.ingest.files.readings_csv.CsvInput.columns` — in the columns
    of ``period_readings`` (:data:`~glucosestream.elt.grid_metrics.READING_COLUMNS`), in file
    order."""
    if isinstance(rows, pa.Table):
        return _input_table(
            rows["patient_id"],
            rows["device_id"],
            rows["measured_at"].to_numpy(),
            rows["utc_offset_minutes"].to_numpy(),
            rows["glucose_mg_dl"],
        )
    return _input_table(
        pa.array([r.patient_id for r in rows], pa.string()),
        pa.array([r.device_id for r in rows], pa.string()),
        np.array([r.measured_at for r in rows], dtype=np.int64),
        np.array([r.utc_offset_minutes for r in rows], dtype=np.int64),
        pa.array([r.glucose_mg_dl for r in rows], pa.float64()),
    )


def _input_table(
    patient_id: pa.Array | pa.ChunkedArray,
    device_id: pa.Array | pa.ChunkedArray,
    measured: np.ndarray,
    offset_minutes: np.ndarray,
    glucose: pa.Array | pa.ChunkedArray,
) -> pa.Table:
    local = measured + offset_minutes.astype(np.int64) * MINUTE_MS
    return pa.table(
        {
            "patient_id": patient_id,
            "device_id": device_id,
            "measured_at": pa.array(measured, pa.timestamp("ms", tz="UTC")),
            "local_time": pa.array(local, pa.timestamp("ms")),
            "glucose_mg_dl": glucose,
        }
    )


def load_readings(engine: ArrowEngine, table: pa.Table) -> tuple[pa.Table, SeriesOrder]:
    """The readings deduplicated — the first row, in input order, of each identity (patient,
    device, instant), as every sink keeps the earliest copy — registered as ``period_readings``
    for the SQL metrics; returned with their series order (for :func:`patient_series`)."""
    readings, order = first_copies(table.select(READING_COLUMNS))
    engine.register("period_readings", readings)
    return readings, order


def patient_metrics(
    engine: ArrowEngine, rows: Sequence[CsvReading] | pa.Table
) -> list[dict[str, Any]]:
    return metrics_of_table(engine, readings_table(rows))


def metrics_of_table(
    engine: ArrowEngine, table: pa.Table, workers: int | None = None
) -> list[dict[str, Any]]:
    """The metrics of every patient in an Arrow table of readings (see :func:`readings_table`),
    patients in id order.

    ``workers``: processes for the grid metrics, this one included (default: one per core; pass
    1 where processes cannot be forked, e.g. in Lambda). The SQL metrics run in the engine
    meanwhile, on as many threads as it was given (the CLI gives one: the same input, the same
    output).
    """
    series = patient_series(*load_readings(engine, table))

    def sql_metrics() -> None:
        engine.register(CSV_SQL_METRICS, engine.run(sql_metrics_query(engine.database)))

    # The SQL metrics need no grid: the engine computes them while the other processes compute
    # grids (one core each way when the engine runs on one thread, as the CLI's does), then
    # this process computes the grids no other has started.
    grid_values = _computed_per_chunk(series, workers, chunk_grid_metrics, sql_metrics)
    grid = grid_metrics_table(list(series), grid_values, None, None)
    run = pa.array([CSV_RUN] * grid.num_rows, pa.string())
    engine.register(GRID_METRICS_STAGING, grid.append_column("run_id", run))
    computed = Statement(f"SELECT * FROM {engine.database}.{CSV_SQL_METRICS}")  # noqa: S608
    rows = engine.run(
        period_metrics_query(engine.database, CSV_RUN, sql_metrics=computed)
    ).to_pylist()
    return [
        {"id": row["patient_id"], **{column: row[column] for column in METRIC_COLUMNS[1:]}}
        for row in sorted(rows, key=itemgetter("patient_id"))
    ]


def profile_metrics(
    engine: ArrowEngine,
    rows: Sequence[CsvReading] | pa.Table,
    profile: str = "default",
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """The metrics of every patient in the columns of ``PROFILES[profile]``, patients in id
    order (``rows``: as :func:`readings_table` takes them)."""
    return profile_of_table(engine, readings_table(rows), profile, workers)


def profile_of_table(
    engine: ArrowEngine, table: pa.Table, profile: str, workers: int | None = None
) -> list[dict[str, Any]]:
    """:func:`profile_metrics` of an Arrow table of readings (see :func:`readings_table`)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    if profile == "default":
        return metrics_of_table(engine, table, workers)
    series = patient_series(*load_readings(engine, table))
    profiles = _computed_per_chunk(series, workers, chunk_iglu_profiles)
    return [{"id": patient, **profile} for patient, profile in zip(series, profiles, strict=True)]


PARALLEL_FROM_PATIENTS = 64
"""Below this, starting processes costs more than it saves."""


def _worker_count(workers: int | None, patients: int) -> int:
    """Processes for the grid metrics: ``workers`` (None: one a core), but 1 for few patients."""
    count = workers if workers is not None else os.cpu_count() or 1
    return count if patients >= PARALLEL_FROM_PATIENTS else 1


Computed = TypeVar("Computed")
CHUNKS_PER_PROCESS = 16
"""Chunks of patients per process: enough that the processes finish close together."""
MAX_CHUNK_PATIENTS = 64
"""Patients computed together at most: a chunk's arrays stay small (in cache; a cohort's at
once ran slower, e.g. MAGE of 1,000 patients 0.39 s in chunks of 25, 0.45 s in chunks of 250)."""


def _computed_per_chunk(
    series: Mapping[str, PatientSeries],
    workers: int | None,
    compute: Callable[[Sequence[PatientSeries]], list[Computed]],
    meanwhile: Callable[[], None] | None = None,
) -> list[Computed]:
    """``compute`` of every patient's series, in ``series`` order, on ``workers`` processes
    (None: one a core), this one included.

    ``compute`` takes a chunk of patients (a cohort's arrays are processed a chunk at a time,
    not a patient at a time) and returns only what the caller uses: results come back pickled.
    The other processes are forked with the chunks (inherited, not sent) and take them from
    the first; this process first runs ``meanwhile`` (work of its own, e.g. the SQL metrics),
    then computes, from the last, every chunk no other process has started.
    """
    patients = list(series.values())
    count = _worker_count(workers, len(patients))
    size = max(1, min(MAX_CHUNK_PATIENTS, -(-len(patients) // (count * CHUNKS_PER_PROCESS))))
    chunks = [patients[start : start + size] for start in range(0, len(patients), size)]
    if count <= 1:
        if meanwhile is not None:
            meanwhile()
        return [one for chunk in chunks for one in compute(chunk)]
    context = get_context("fork")
    with ProcessPoolExecutor(count - 1, context, _inherit_chunks, (chunks,)) as pool:
        pending = [pool.submit(_inherited_chunk, compute, index) for index in range(len(chunks))]
        if meanwhile is not None:
            meanwhile()
        here: dict[int, list[Computed]] = {}
        for index in reversed(range(len(chunks))):
            if pending[index].cancel():
                here[index] = compute(chunks[index])
        return [
            one
            for index, future in enumerate(pending)
            for one in (here[index] if index in here else future.result())
        ]


_inherited: list[list[PatientSeries]] = []
"""In a forked process of :func:`_computed_per_chunk`: the chunks, as the parent had them."""


def _inherit_chunks(chunks: list[list[PatientSeries]]) -> None:
    """A forked process's initializer: its arguments are inherited with the fork, not
    pickled, so the series are not copied through a pipe."""
    global _inherited
    _inherited = chunks


def _inherited_chunk(
    compute: Callable[[Sequence[PatientSeries]], list[Computed]], index: int
) -> list[Computed]:
    return compute(_inherited[index])


def _cell(value: Any, instant: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if instant:
        # R prints POSIXct in the data's zone: here the local wall clock, to the second.
        return str(np.datetime64(int(value), "ms").astype("datetime64[s]"))
    return repr(value) if isinstance(value, float) else str(value)


def write_metrics(
    metrics: list[dict[str, Any]], target: Path, columns: Sequence[str] = METRIC_COLUMNS
) -> None:
    """``metrics.csv``: a header of ``columns`` and one row per patient; empty where a value
    is missing (R's NA); R's instants (``DATE_COLUMNS``) as local ISO times."""
    with atomic_text_file(target, newline="", durable=False) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in metrics:
            writer.writerow([_cell(row[c], c in DATE_COLUMNS) for c in columns])
