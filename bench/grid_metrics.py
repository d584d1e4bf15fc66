"""Grid-metrics benchmark: one Lambda chunk's work against reading the same Parquet, same data.

Data: N patients x 14 days of 5-minute readings (288 a day, Dexcom-like sensors) from the
simulator, as one Parquet file: a chunk of the pipeline's Distributed Map. Measured, in this
process (one core, as a Lambda of <= 1,769 MB has):
  floor — pyarrow reads the Parquet file (what any per-chunk step pays);
  grid  — the grid-metrics Lambda's work on it: read, per-patient series, CONGA, MODD, MAG,
          MAGE, active %, episodes and the iglu profile (glucosestream.elt.grid_batch.run_batch
          on a lake directory, outputs written as Parquet).
Prints patients/s, ms per patient and bytes per patient: the figures of
docs/adr/0003-grid-metrics-on-aws.md.

    python bench/grid_metrics.py [--patients 300] [--days 14]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.elt.grid_batch import run_batch
from glucosestream.lake.directory import LocalLakeStorage
from stream.simulator import NO_TRANSPORT_FAULTS, CohortConfig, build_cohort, simulate_readings


def chunk_table(patients: int, days: float) -> pa.Table:
    """The columns of sql/curated/period_readings.sql for a simulated cohort."""
    config = CohortConfig(
        patients=patients, days=days, seed=7, libre_share=0.0, faults=NO_TRANSPORT_FAULTS
    )
    cohort = build_cohort(config)
    patient_ids = np.array([p.patient_id for p in cohort], dtype=object)
    device_ids = np.array([p.device_id for p in cohort], dtype=object)
    parts = [
        pa.table(
            {
                "patient_id": pa.array(patient_ids[batch.patient], pa.string()),
                "device_id": pa.array(device_ids[batch.patient], pa.string()),
                "measured_at": pa.array(batch.measured_at, pa.timestamp("ms", tz="UTC")),
                "local_time": pa.array(
                    batch.measured_at + batch.utc_offset * 60_000, pa.timestamp("ms")
                ),
                "glucose_mg_dl": pa.array(batch.glucose.astype(np.float64)),
            }
        )
        for batch in simulate_readings(config, cohort)
    ]
    return pa.concat_tables(parts)


def best_of(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    table = chunk_table(args.patients, args.days)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue()
    print(
        f"data: {table.num_rows:,} readings of {args.patients} patients x {args.days:g} days "
        f"({table.num_rows / args.patients:,.0f} a patient); Parquet (zstd) {len(data):,} bytes "
        f"= {len(data) / args.patients:,.0f} bytes a patient; in memory "
        f"{table.nbytes / args.patients:,.0f} bytes a patient"
    )
    with tempfile.TemporaryDirectory() as directory:
        lake = LocalLakeStorage(Path(directory), "bench-lake")
        lake.write_bytes("work/grid/b/input/chunk=0/0.parquet", data)
        event = {
            "Items": [{"Key": "work/grid/b/input/chunk=0/0.parquet"}],
            "BatchInput": {
                "metrics_prefix": "work/grid/b/output/grid_metrics/",
                "episodes_prefix": "work/grid/b/output/episodes/",
                "iglu_prefix": "work/grid/b/output/iglu/",
                "period_start": "2026-01-05",
                "period_end": "2026-01-18",
            },
        }
        floor_s = best_of(args.runs, lambda: pq.ParquetFile(io.BytesIO(data)).read())
        grid_s = best_of(args.runs, lambda: run_batch(event, lake))
        report = run_batch(event, lake)
        out = sum(o.size for o in lake.list("work/grid/b/output/"))
    assert report["patients"] == args.patients
    print(
        f"floor (pyarrow reads the chunk): {floor_s * 1000:.1f} ms = "
        f"{args.patients / floor_s:,.0f} patients/s"
    )
    print(
        f"grid  (the Lambda's batch):      {grid_s * 1000:.1f} ms = "
        f"{args.patients / grid_s:,.0f} patients/s, {grid_s * 1000 / args.patients:.2f} ms a "
        f"patient; {report['episodes']} episodes; outputs {out:,} bytes"
    )
    print(f"ratio: grid / floor = {grid_s / floor_s:.0f}x (best of {args.runs})")


if __name__ == "__main__":
    main()
