"""A small lake of simulated patients for the dashboard tests: raw zone → ELT → marts.

The raw files come from the ELT benchmark's writer (the simulator's readings in the Glue
schema); the ELT runs twice, for two disjoint 14-day periods, so the cohort view has a previous
period to compare TIR with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench.elt import raw_tables, write
from glucosestream.elt.marts import PERIOD_DAYS
from glucosestream.elt.refresh import run_elt
from glucosestream.local.lake import local_lake
from glucosestream.settings import Settings, load_settings


@dataclass(frozen=True)
class Lake:
    settings: Settings
    first_day: date
    periods: tuple[date, date]
    """(previous, latest) period_end."""


def build_lake(state_dir: Path, patients: int = 6, days: int = 28, **overrides: object) -> Lake:
    settings = load_settings(state_dir=state_dir, env="test", **overrides)
    tables = raw_tables(patients, days)
    write(settings, tables, "sim")
    dts = sorted({dt for dt, _ in tables})
    first = date.fromisoformat(dts[0])
    latest = first + timedelta(days=days - 1)
    previous = latest - timedelta(days=PERIOD_DAYS)
    run_elt(local_lake(settings), previous)
    run_elt(local_lake(settings), latest)
    return Lake(settings, first, (previous, latest))
