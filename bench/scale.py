"""Scale benchmark (opt-in: ``make bench-scale``): a lake of N patients x D days on one machine.

Data: B patients simulated by ``stream.simulator`` for D days (physiology, sensor sessions,
gaps, time zones, the transport's duplicates), each copied N / B times under new patient and
device ids; every copy's times are shifted by 0-59 s and its values by -10..+10 mg/dL, both a
deterministic function of (copy, reading time), so copies are not byte-identical (Parquet would
compress them away) and a duplicated reading stays a duplicate. The readings are written
straight into the raw zone (``raw/readings/dt=/hour=/``, zstd Parquet with the Glue columns, one
file per hour), hour by hour, never held whole in memory.

Measured, each step in its own process (peak RSS from ``getrusage(RUSAGE_CHILDREN)``):
  generate  — the raw zone written (informational);
  scan      — the baseline: DuckDB reads every raw file and computes count and mean per
              patient (scan + GROUP BY), the least any pipeline over the lake must do;
  pipeline  — ``run_elt`` (the local pipeline: plan, curate, daily marts, AGP, episodes, grid
              metrics, period marts; DuckDB running the Athena SQL) over the whole lake.
Targets (issue 20 item 3): pipeline <= 5 min and peak RSS <= 8 GiB at 10,000 x 90 days
(the issue reckoned ~259M readings; the simulator, with its gaps and sensor changes, gives
198M). Prints pipeline/scan as the in-run ratio.

    python bench/scale.py [--patients 10000] [--days 90] [--base-patients 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HOUR_MS = 3_600_000
TARGET_S = 300.0
TARGET_RSS_GIB = 8.0


@dataclass(frozen=True)
class Base:
    """The simulated patients' readings, sorted by (hour, base patient, time)."""

    patient: np.ndarray
    measured_at: np.ndarray
    utc_offset: np.ndarray
    glucose: np.ndarray
    status: np.ndarray
    trend: np.ndarray
    session: np.ndarray
    hours: np.ndarray  # the distinct UTC hours (epoch hours), ascending
    starts: np.ndarray  # hours[i]'s rows: starts[i]:starts[i + 1]


def simulate_base(base_patients: int, days: int) -> Base:
    from stream.simulator.cohort import build_cohort
    from stream.simulator.config import CohortConfig
    from stream.simulator.engine import simulate_readings

    config = CohortConfig(patients=base_patients, days=days, seed=20)
    batches = list(simulate_readings(config, build_cohort(config)))

    def column(name: str) -> np.ndarray:
        return np.concatenate([getattr(b, name) for b in batches])

    measured = column("measured_at").astype(np.int64)
    patient = column("patient").astype(np.int64)
    hour = measured // HOUR_MS
    order = np.lexsort((measured, patient, hour))
    hours, starts = np.unique(hour[order], return_index=True)
    return Base(
        patient=patient[order],
        measured_at=measured[order],
        utc_offset=column("utc_offset")[order].astype(np.int32),
        glucose=column("glucose")[order].astype(np.int32),
        status=column("status")[order],
        trend=column("trend")[order],
        session=column("session")[order],
        hours=hours,
        starts=np.append(starts, len(order)),
    )


def hour_table(base: Base, index: int, copies: int, base_patients: int) -> pa.Table:
    """Hour ``index``'s readings of every copy of every base patient, in the raw zone's columns."""
    from glucosestream.lake.raw_zone.schema import parquet_schema
    from stream.simulator.sensor import STATUSES, TRENDS

    rows = slice(base.starts[index], base.starts[index + 1])
    n = rows.stop - rows.start
    copy = np.repeat(np.arange(copies, dtype=np.int64), n)
    measured = np.tile(base.measured_at[rows], copies)
    seconds = measured // 1000
    hour_end = (base.hours[index] + 1) * HOUR_MS
    measured = np.minimum(measured + ((seconds * 2_654_435_761 + copy * 40_503) % 60) * 1000,
                          hour_end - 1)  # fmt: skip
    glucose = np.tile(base.glucose[rows], copies)
    glucose = np.clip(glucose + ((seconds * 97 + copy * 131) % 21) - 10, 40, 400).astype(np.int32)
    patient = copy * base_patients + np.tile(base.patient[rows], copies)
    patient_ids = pc.binary_join_element_wise("scale-", pa.array(patient).cast(pa.string()), "")
    device_ids = pc.binary_join_element_wise("dev-", pa.array(patient).cast(pa.string()), "")
    statuses = np.array([s.value for s in STATUSES])
    trends = np.array([t.value for t in TRENDS])
    measured_ts = pa.array(measured, pa.timestamp("ms"))
    return pa.table(
        {
            "event_id": pc.binary_join_element_wise(
                patient_ids, pa.array(measured).cast(pa.string()), ":"
            ),
            "patient_id": patient_ids,
            "device_id": device_ids,
            "session_id": pc.binary_join_element_wise(
                device_ids, pa.array(np.tile(base.session[rows], copies)).cast(pa.string()), ":"
            ),
            "measured_at": measured_ts,
            "utc_offset_minutes": pa.array(np.tile(base.utc_offset[rows], copies), pa.int32()),
            "glucose_mg_dl": pa.array(glucose, pa.int32()),
            "status": pa.array(statuses[np.tile(base.status[rows], copies)]),
            "trend": pa.array(trends[np.tile(base.trend[rows], copies)]),
            "source": pa.array(np.full(n * copies, "CGM")),
            "produced_at": pa.array(measured + 2_000, pa.timestamp("ms")),
            "ingested_at": pa.array(measured + 3_000, pa.timestamp("ms")),
        },
        schema=parquet_schema(),
    )


_BASE: Base | None = None


def _write_hours(root: str, indexes: list[int], copies: int, base_patients: int) -> int:
    assert _BASE is not None
    written = 0
    for index in indexes:
        table = hour_table(_BASE, index, copies, base_patients)
        stamp = np.datetime64(int(_BASE.hours[index]) * HOUR_MS, "ms").astype("datetime64[h]")
        day, hour = str(stamp).split("T")
        directory = Path(root) / f"dt={day}" / f"hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, directory / "scale.parquet", compression="zstd")
        written += table.num_rows
    return written


def generate(state: Path, patients: int, days: int, base_patients: int, workers: int) -> int:
    """Writes the raw zone; returns the number of readings."""
    global _BASE
    from glucosestream.settings import load_settings

    copies = -(-patients // base_patients)
    _BASE = simulate_base(base_patients, days)
    settings = load_settings(state_dir=state, env="bench")
    root = str(settings.lake_dir / settings.names.raw_readings_prefix)
    indexes = list(range(len(_BASE.hours)))
    chunks = [indexes[i :: workers * 8] for i in range(workers * 8)]
    # Forked workers share the base arrays copy-on-write.
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(_write_hours, root, c, copies, base_patients) for c in chunks]
        return sum(f.result() for f in futures)


def scan(state: Path) -> str:
    import duckdb

    from glucosestream.settings import load_settings

    settings = load_settings(state_dir=state, env="bench")
    files = str(settings.lake_dir / settings.names.raw_readings_prefix / "**" / "*.parquet")
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), sum(n) FROM (SELECT patient_id, count(*) AS n, avg(glucose_mg_dl) "
            f"FROM read_parquet('{files}') GROUP BY patient_id)"
        )
        .fetchone()
    )
    assert rows is not None
    return f"{rows[0]} patients, {rows[1]} readings"


def pipeline(state: Path) -> str:
    from glucosestream.elt.refresh import run_elt
    from glucosestream.local.lake import local_lake
    from glucosestream.settings import load_settings

    report = run_elt(local_lake(load_settings(state_dir=state, env="bench")))
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.step_seconds.items())
    return (
        f"{report.curated_rows} curated rows, {len(report.curated_partitions)} dt partitions, "
        f"run date {report.run_date}; steps: {steps}"
    )


@dataclass(frozen=True)
class Step:
    seconds: float
    peak_rss_gib: float
    said: str


def measured(step: str, argv: list[str]) -> Step:
    """Runs this script's ``step`` in a child process: its wall time, its peak RSS (the child
    reports its own ``ru_maxrss``: DuckDB and the writers run inside it) and what it said."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--step", step, *argv], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{step} failed:\n{done.stderr[-4000:]}")
    *_, said, peak = done.stdout.strip().splitlines()
    return Step(seconds, int(peak.split("=")[1]) / 2**20, said)


def lake_bytes(state: Path, prefix: str) -> int:
    return sum(p.stat().st_size for p in (state / "lake").rglob("*") if p.is_file() and
               prefix in p.parts)  # fmt: skip


def run_step(args: argparse.Namespace) -> None:
    state = Path(args.state)
    if args.step == "generate":
        readings = generate(state, args.patients, args.days, args.base_patients, args.workers)
        said = f"{readings} readings"
    elif args.step == "scan":
        said = scan(state)
    else:
        said = pipeline(state)
    print(said)
    print(f"peak_rss_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--base-patients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="processes writing the raw zone")
    parser.add_argument("--keep", type=Path, help="state directory to keep (default: a temp dir)")
    parser.add_argument("--step", choices=("generate", "scan", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args)
        return
    if args.patients < 1 or args.days < 1 or not 1 <= args.base_patients <= args.patients:
        parser.error("need 1 <= --base-patients <= --patients and --days >= 1")
    state = args.keep or Path(tempfile.mkdtemp(prefix="gs-scale-"))
    common = [
        "--state", str(state), "--patients", str(args.patients), "--days", str(args.days),
        "--base-patients", str(args.base_patients), "--workers", str(args.workers),
    ]  # fmt: skip
    try:
        steps = {name: measured(name, common) for name in ("generate", "scan", "pipeline")}
        raw_gib = lake_bytes(state, "raw") / 2**30
    finally:
        if args.keep is None:
            shutil.rmtree(state, ignore_errors=True)
    print(f"lake: {args.patients} patients x {args.days} days ({steps['generate'].said}), "
          f"raw zone {raw_gib:.2f} GiB")  # fmt: skip
    for name, step in steps.items():
        print(
            f"{name:>8}: {step.seconds:7.1f} s, peak RSS {step.peak_rss_gib:5.2f} GiB — {step.said}"
        )
    ratio = steps["pipeline"].seconds / steps["scan"].seconds
    print(f"pipeline / scan: {ratio:.1f}x")
    time_ok = steps["pipeline"].seconds <= TARGET_S
    rss_ok = steps["pipeline"].peak_rss_gib <= TARGET_RSS_GIB
    print(
        f"target pipeline <= {TARGET_S:.0f} s: {'met' if time_ok else 'MISSED'} "
        f"({steps['pipeline'].seconds:.0f} s); peak RSS <= {TARGET_RSS_GIB:.0f} GiB: "
        f"{'met' if rss_ok else 'MISSED'} ({steps['pipeline'].peak_rss_gib:.2f} GiB)"
    )


if __name__ == "__main__":
    main()
