"""Metrics CSV benchmark: the whole `glucosestream metrics` process against iglu-python, same CSV.

Data: N subjects x D days of 5-minute readings with jittered times (each reading up to 30 s off
its slot; 1.5 % of slots missing), glucose a bounded random walk, written as an iglu CSV
(`id,time,gl`, naive times read in UTC). Default 300 x 14 (~1.19M rows). Measured:
  read    — `read_csv_input` alone on the file (in this process);
  process — `glucosestream metrics --input F --output O` as a subprocess (PYTHONPATH set to this
            checkout): start-up, CSV read, every metric, metrics.csv written; the median of
            --process-runs runs (a second-long process on a shared machine moves by +-15 %
            from run to run; the range is printed);
  iglu    — iglu-python (pandas) computing the same metrics (the calls of bench/metrics.py:
            mean, SD, GMI, LBGI, HBGI, ADRR, GRADE, GRI, J-index, M-value, time below / in /
            above range, and per subject CONGA, MODD, MAG, MAGE, active %, episodes) on the same
            readings, all N subjects (`--iglu-subjects` runs fewer and extrapolates, said so).
Target (issue 20 item 1): process >= 100x faster than iglu-python's compute.

    python bench/metrics_csv.py [--subjects 300] [--days 14] [--iglu-subjects N]
                                [--process-runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from _iglu import iglu_seconds

from glucosestream.ingest.files.readings_csv import read_csv_input

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from glucosestream.cli.main import console; sys.exit(console())"
"""The `glucosestream` console script, run by this interpreter with PYTHONPATH set."""
TARGET = 100.0
SLOT_S = 300
JITTER_S = 30
MISSING = 0.015
START = np.datetime64("2026-01-05T00:00:00", "s")


def cohort_frame(subjects: int, days: float, seed: int = 7) -> pd.DataFrame:
    """id, time (naive, seconds), gl of every subject, subjects one after the other."""
    rng = np.random.default_rng(seed)
    slots = int(days * 86_400 // SLOT_S)
    frames = []
    for subject in range(subjects):
        kept = np.flatnonzero(rng.random(slots) >= MISSING)
        offsets = kept * SLOT_S + rng.integers(-JITTER_S, JITTER_S + 1, len(kept))
        offsets = np.maximum(offsets, 0)
        steps = rng.normal(0, 6, len(kept))
        glucose = np.clip(140 + np.cumsum(steps) * 0.6, 40, 400).round()
        frames.append(
            pd.DataFrame(
                {
                    "id": f"subject-{subject + 1:04d}",
                    "time": START + offsets.astype("timedelta64[s]"),
                    "gl": glucose.astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    times = np.datetime_as_string(frame["time"].to_numpy().astype("datetime64[s]"), unit="s")
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,time,gl\n")
        out.writelines(
            f"{subject},{stamp.replace('T', ' ')},{glucose}\n"
            for subject, stamp, glucose in zip(frame["id"], times, frame["gl"], strict=True)
        )


def metrics_process(source: Path, target: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", CLI, "metrics", "--input", str(source), "--output", str(target)],
        check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subjects", type=int, default=300)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--iglu-subjects", type=int, default=None, help="default: all")
    parser.add_argument("--process-runs", type=int, default=5)
    args = parser.parse_args()

    frame = cohort_frame(args.subjects, args.days)
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "readings.csv", Path(directory) / "metrics.csv"
        write_csv(frame, source)
        print(
            f"data: {len(frame):,} readings of {args.subjects} subjects x {args.days:g} days, "
            f"{source.stat().st_size / 1e6:.1f} MB of id,time,gl"
        )
        started = time.perf_counter()
        read = read_csv_input(source)
        read_s = time.perf_counter() - started
        assert read.count == len(frame)
        runs = sorted(metrics_process(source, target) for _ in range(max(1, args.process_runs)))
        process_s = statistics.median(runs)
        with target.open(encoding="utf-8") as written:
            assert sum(1 for _ in written) == args.subjects + 1

    ids = sorted(frame["id"].unique())
    subset = ids[: args.iglu_subjects] if args.iglu_subjects else ids
    iglu_s = iglu_seconds(frame, subset) * len(ids) / len(subset)
    scope = (
        f"{len(subset)} subjects extrapolated linearly to {len(ids)}"
        if len(subset) < len(ids)
        else f"all {len(ids)} subjects"
    )
    ratio = iglu_s / process_s
    print(f"CSV read alone (read_csv_input):             {read_s:6.2f} s")
    print(
        f"glucosestream metrics, whole process:        {process_s:6.2f} s "
        f"(median of {len(runs)} runs, {runs[0]:.2f}-{runs[-1]:.2f} s)"
    )
    print(f"iglu-python compute ({scope}): {iglu_s:6.1f} s")
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(f"ratio iglu/process: {ratio:.1f} (target >= {TARGET:g}: {verdict})")
    if ratio < TARGET:
        print(
            f"  reason: the process would have to take <= {iglu_s / TARGET:.2f} s; of its "
            f"{process_s:.2f} s the CSV read is {read_s:.2f} s, the rest start-up and metrics"
        )


if __name__ == "__main__":
    main()
