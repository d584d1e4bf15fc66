"""``glucosestream episodes``: one row per glycaemic episode, from an ``id,time,gl`` CSV.

Episodes as the 2023 consensus defines them and iglu's ``episode_calculation`` computes them
(:mod:`glucosestream.domain.metrics.episodes`), over the readings deduplicated as by
``glucosestream metrics``: each patient's
:func:`glucosestream.elt.grid_metrics.wall_clock_episodes`, the rows of the ``glycemic_episodes``
mart. Times are the patient's local wall-clock time (grid instants).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from glucosestream.domain.metrics import Episode
from glucosestream.elt.grid_metrics import patient_series, wall_clock_episodes
from glucosestream.ingest.files.readings_csv import CsvReading
from glucosestream.lake.durable_files import atomic_text_file
from glucosestream.reports.metrics import load_readings, readings_table
from glucosestream.warehouse.arrow_engine import ArrowEngine

EPISODE_COLUMNS = (
    "id", "type", "level", "start_local", "end_local", "duration_min", "extreme_mg_dl",
    "mean_mg_dl", "exclusive",
)  # fmt: skip
"""``extreme_mg_dl`` is the nadir of a hypo episode and the peak of a hyper one; ``exclusive``
marks level-1 episodes that never reached level 2 (iglu's ``lv1_excl``)."""


def local_iso(naive_ms: int) -> str:
    return datetime.fromtimestamp(naive_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def patient_episodes(
    engine: ArrowEngine, rows: Sequence[CsvReading] | pa.Table
) -> list[tuple[str, Episode]]:
    """Every patient's episodes, patients in id order."""
    readings, order = load_readings(engine, readings_table(rows))
    return [
        (patient, episode)
        for patient, series in patient_series(readings, order).items()
        for episode in wall_clock_episodes(series)
    ]


def write_episodes(found: list[tuple[str, Episode]], target: Path) -> None:
    with atomic_text_file(target, newline="", durable=False) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EPISODE_COLUMNS)
        for patient, e in found:
            writer.writerow(
                (
                    patient, e.kind, e.level, local_iso(e.start_ms), local_iso(e.end_ms),
                    e.duration_min, repr(float(e.extreme_mg_dl)), repr(float(e.mean_mg_dl)),
                    str(e.exclusive).lower(),
                )
            )  # fmt: skip
