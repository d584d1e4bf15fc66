"""``glucosestream episodes``: one row per glycaemic episode, from an ``id,time,gl`` CSV.

Episodes as the 2023 consensus defines them and iglu's ``episode_calculation`` computes them
(:mod:`glucosestream.domain.metrics.episodes`), over the readings deduplicated by the same SQL as
``glucosestream metrics``. Times are the patient's local wall-clock time (grid instants).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from glucosestream.domain.metrics import Episode, episodes
from glucosestream.elt.grid_metrics import PatientSeries
from glucosestream.ingest.files.readings_csv import CsvReading
from glucosestream.lake.durable_files import atomic_text_file
from glucosestream.local.athena import LocalAthena
from glucosestream.reports.metrics import load_readings, period_series, readings_table

EPISODE_COLUMNS = (
    "id", "type", "level", "start_local", "end_local", "duration_min", "extreme_mg_dl",
    "mean_mg_dl", "exclusive",
)  # fmt: skip
"""``extreme_mg_dl`` is the nadir of a hypo episode and the peak of a hyper one; ``exclusive``
marks level-1 episodes that never reached level 2 (iglu's ``lv1_excl``)."""


def local_iso(naive_ms: int) -> str:
    return datetime.fromtimestamp(naive_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def patient_episodes(rows: Sequence[CsvReading]) -> list[tuple[str, Episode]]:
    engine = LocalAthena()
    load_readings(engine, readings_table(rows))
    found: list[tuple[str, Episode]] = []
    for patient, series in period_series(engine).items():
        found.extend(
            (patient, on_wall_clock(episode, series))
            for episode in episodes(series.times, series.glucose).episodes
        )
    return found


def on_wall_clock(episode: Episode, series: PatientSeries) -> Episode:
    """The episode with its start and end on the patient's wall clock (for display)."""
    return replace(
        episode,
        start_ms=series.wall_clock(episode.start_ms),
        end_ms=series.wall_clock(episode.end_ms),
    )


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
