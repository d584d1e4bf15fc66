"""ELT benchmark: the incremental run's time must not grow with history.

Data: the simulator's readings (N patients, default 20), written as the raw zone
(``raw/readings/dt=/hour=/*.parquet``, one file per hour, the Glue schema) for H days of history
plus one new day, for H = 10 and H = 100. Per history: a full ELT over the H days (timed, for
information), then the new day's files are added and the incremental run is timed (best of
``--repeat``: the new day's state is reset between repeats). Target: incremental(100) /
incremental(10) <= 1.3. Note: the 14-day period window is not full with 10 days of history
(11 local days are measured instead of 14), which slightly favours the short history.

    python bench/elt.py [--patients 20] [--short 10] [--long 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.elt.plan import STATE_KEY
from glucosestream.elt.refresh import run_elt
from glucosestream.lake.raw_zone.schema import parquet_schema
from glucosestream.local.lake import local_lake
from glucosestream.settings import Settings, load_settings
from stream.simulator.cohort import build_cohort
from stream.simulator.config import CohortConfig
from stream.simulator.engine import simulate_readings
from stream.simulator.sensor import STATUSES, TRENDS

DAY_MS = 86_400_000


def raw_tables(patients: int, days: int) -> dict[tuple[str, str], pa.Table]:
    """The simulated readings as raw-zone tables per (dt, hour)."""
    config = CohortConfig(patients=patients, days=days, seed=11)
    cohort = build_cohort(config)
    ids = np.array([p.patient_id for p in cohort])
    devices = np.array([p.device_id for p in cohort])
    statuses = np.array([s.value for s in STATUSES])
    trends = np.array([t.value for t in TRENDS])
    schema = parquet_schema()
    out: dict[tuple[str, str], list[pa.Table]] = {}
    for batch in simulate_readings(config, cohort):
        measured = batch.measured_at
        hour_index = measured // 3_600_000
        table = pa.table(
            {
                "event_id": pa.array(
                    [f"e{p}-{m}" for p, m in zip(batch.patient, measured, strict=True)]
                ),
                "patient_id": ids[batch.patient],
                "device_id": devices[batch.patient],
                "session_id": pa.array([f"s{s}" for s in batch.session]),
                "measured_at": pa.array(measured, pa.timestamp("ms")),
                "utc_offset_minutes": pa.array(batch.utc_offset, pa.int32()),
                "glucose_mg_dl": pa.array(batch.glucose, pa.int32()),
                "status": statuses[batch.status],
                "trend": trends[batch.trend],
                "source": np.full(len(batch), "CGM"),
                "produced_at": pa.array(measured + 2_000, pa.timestamp("ms")),
                "ingested_at": pa.array(measured + 3_000, pa.timestamp("ms")),
            },
            schema=schema,
        )
        for hour in np.unique(hour_index):
            part = table.filter(pa.array(hour_index == hour))
            day = np.datetime64(int(hour) * 3_600_000, "ms").astype("datetime64[h]").item()
            out.setdefault((day.strftime("%Y-%m-%d"), day.strftime("%H")), []).append(part)
    return {key: pa.concat_tables(parts) for key, parts in out.items()}


def write(settings: Settings, tables: dict[tuple[str, str], pa.Table], name: str) -> None:
    root = settings.lake_dir / settings.names.raw_readings_prefix
    for (dt, hour), table in tables.items():
        directory = root / f"dt={dt}" / f"hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, directory / f"{name}.parquet", compression="zstd")


def measure(patients: int, history: int, repeat: int) -> tuple[float, float, int]:
    tables = raw_tables(patients, history + 1)
    dts = sorted({dt for dt, _ in tables})
    # The simulation starts at midnight UTC: the last dt is the new day.
    new_day = dts[-1]
    old = {k: t for k, t in tables.items() if k[0] != new_day}
    new = {k: t for k, t in tables.items() if k[0] == new_day}
    with tempfile.TemporaryDirectory() as state:
        settings = load_settings(state_dir=Path(state), env="bench")
        write(settings, old, "history")
        started = time.perf_counter()
        run_elt(local_lake(settings))
        full = time.perf_counter() - started
        saved = (settings.lake_dir / STATE_KEY).read_bytes()
        marts = settings.lake_dir / settings.names.marts_prefix
        snapshot = Path(state) / "marts-before"
        shutil.copytree(marts, snapshot)
        write(settings, new, "new")
        times = []
        rows = 0
        for _ in range(repeat):
            (settings.lake_dir / STATE_KEY).write_bytes(saved)
            shutil.rmtree(marts)
            shutil.copytree(snapshot, marts)
            started = time.perf_counter()
            report = run_elt(local_lake(settings), date.fromisoformat(new_day))
            times.append(time.perf_counter() - started)
            rows = report.curated_rows
            assert report.curated_partitions == [new_day], report.curated_partitions
    return full, min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--long", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for history in (args.short, args.long):
        full, incremental, rows = measure(args.patients, history, args.repeat)
        results[history] = incremental
        print(
            f"history {history:>3} days: full run {full:6.2f} s; incremental run (1 new day, "
            f"{rows} curated rows) {incremental:6.3f} s"
        )
    ratio = results[args.long] / results[args.short]
    verdict = "ok" if ratio <= 1.3 else "ABOVE TARGET"
    print(
        f"incremental ratio {args.long} / {args.short} days: {ratio:.2f} (target <= 1.3: {verdict})"
    )


if __name__ == "__main__":
    main()
