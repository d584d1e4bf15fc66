"""Dashboard benchmark: server-side time to build the views, against the bare queries.

Data, in a temporary local lake:
  report — one simulated patient with D days of history (default 90) through the real ELT, so
           the lake holds 90 days of curated readings and the period marts of the last 14 days;
  cohort — N patients' period metrics (default 1,000) for two periods: the period-metrics rows
           of a simulated cohort of 20 patients (real ELT output), resampled with new patient
           ids to N (the cohort view's cost depends on the row count, not on how rows arose).
Measured (best of ``--repeat``):
  query  — the bare queries a view runs (LakeQueries over DuckDB, the same calls);
  build  — the whole server-side build: the same queries, the view models, the Bokeh models,
           and the document serialised to the JSON a browser session receives.
Target (issue 8): build < 1 s for each view. The ratio build / query says what the dashboard
adds on top of its data access.

    python bench/dashboard.py [--days 90] [--patients 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyarrow as pa
from bokeh.document import Document

from bench.elt import raw_tables, write
from glucosestream.dashboard import app
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.resources import ledger_for
from glucosestream.dashboard.runner import InlineRunner
from glucosestream.dashboard.views.report import load_report
from glucosestream.elt.marts import PERIOD_DAYS
from glucosestream.elt.refresh import run_elt
from glucosestream.elt.tables import PERIOD
from glucosestream.local.dashboard_engine import DuckDbEngine
from glucosestream.local.lake import lake_engine, local_lake, table_location
from glucosestream.settings import Settings, load_settings


def best(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def build_view(queries: LakeQueries, settings: Settings, **arguments: str) -> Document:
    doc = Document()
    app.build(
        doc,
        queries,
        LiveFeed(settings),
        InlineRunner(),
        {name: [value.encode()] for name, value in arguments.items()},
        ledger=ledger_for(settings),
    )
    doc.to_json()
    return doc


def report_lake(state: Path, days: int) -> tuple[Settings, str, date]:
    settings = load_settings(state_dir=state, env="bench")
    tables = raw_tables(1, days)
    write(settings, tables, "sim")
    last = date.fromisoformat(max(dt for dt, _ in tables))
    run_elt(local_lake(settings), last)
    queries = LakeQueries(DuckDbEngine(settings))
    patient = queries.cohort(last)["patient_id"][0]
    return settings, patient, last


def cohort_lake(state: Path, patients: int) -> tuple[Settings, date]:
    settings = load_settings(state_dir=state, env="bench")
    tables = raw_tables(20, 2 * PERIOD_DAYS)
    write(settings, tables, "sim")
    last = date.fromisoformat(max(dt for dt, _ in tables))
    previous = last - timedelta(days=PERIOD_DAYS)
    run_elt(local_lake(settings), previous)
    run_elt(local_lake(settings), last)
    engine = lake_engine(settings)
    rng = np.random.default_rng(8)
    picks = rng.integers(0, 20, patients)
    for end in (previous, last):
        engine.bind(PERIOD, [(end.isoformat(),)])
        rows = engine.connection.sql(
            f"SELECT * FROM {engine.database}.{PERIOD} ORDER BY patient_id"
        ).to_arrow_table()
        sampled = rows.take(pa.array(picks))
        ids = pa.array([f"p_bench{n:05d}" for n in range(patients)])
        sampled = sampled.set_column(
            sampled.schema.get_field_index("patient_id"), "patient_id", ids
        )
        engine.write_arrow(PERIOD, sampled, replace=[(end.isoformat(),)])
    assert any(table_location(settings, PERIOD).rglob("*.parquet"))
    return settings, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as state:
        settings, patient, last = report_lake(Path(state), args.days)
        queries = LakeQueries(DuckDbEngine(settings))
        query_s = best(args.repeat, lambda: load_report(queries, patient, None))
        build_s = best(
            args.repeat, lambda: build_view(queries, settings, view="report", patient=patient)
        )
        report = load_report(queries, patient, None)
        print(
            f"patient report ({args.days} days of history, period ending {last}, "
            f"{len(report.readings['local_time'])} readings drawn): "
            f"query {query_s * 1000:6.1f} ms, "
            f"build {build_s * 1000:6.1f} ms, ratio {build_s / query_s:4.1f} "
            f"(target build < 1 s: {'ok' if build_s < 1 else 'ABOVE TARGET'})"
        )

    with tempfile.TemporaryDirectory() as state:
        settings, last = cohort_lake(Path(state), args.patients)
        queries = LakeQueries(DuckDbEngine(settings))
        rows = len(queries.cohort(last)["patient_id"])
        assert rows == args.patients, rows
        query_s = best(args.repeat, lambda: (queries.periods(), queries.cohort(last)))
        build_s = best(args.repeat, lambda: build_view(queries, settings, view="cohort"))
        print(
            f"cohort view ({rows} patients): query {query_s * 1000:6.1f} ms, "
            f"build {build_s * 1000:6.1f} ms, ratio {build_s / query_s:4.1f} "
            f"(target build < 1 s: {'ok' if build_s < 1 else 'ABOVE TARGET'})"
        )


if __name__ == "__main__":
    main()
