"""The iglu profile's cost: `metrics --profile iglu` against the default profile, same readings.

Data: N patients x D days of 5-minute readings from the simulator (default 1,000 x 14, ~4M
rows), as bench/metrics.py builds them. Measured, each from the same Arrow table through the same
engine (dedupe SQL, per-patient series, one grid per patient, processes per core):
  default — the 32 columns of DESIGN.md §6 (SQL metrics + grid metrics);
  iglu    — every output of every R iglu 4.3.0 metric function (numpy, one grid shared).
Target (issue 21 item 5): iglu <= 2x default.

    python bench/metrics_iglu.py [--patients 1000] [--days 14]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics import announced_cohort

from glucosestream.domain.metrics.iglu_profile import IGLU_COLUMNS
from glucosestream.local.athena import LocalAthena
from glucosestream.reports.metrics import profile_of_table

IGLU_OVER_DEFAULT_TARGET = 2
"""Issue 21 item 5: the full profile within this many times the default profile's time."""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=float, default=14)
    args = parser.parse_args()

    table = announced_cohort(args.patients, args.days)
    seconds = {}
    for profile in ("default", "iglu"):
        started = time.perf_counter()
        rows = profile_of_table(LocalAthena(), table, profile)
        seconds[profile] = time.perf_counter() - started
        assert len(rows) == args.patients
    ratio = seconds["iglu"] / seconds["default"]
    print(f"default profile (32 columns):             {seconds['default']:6.2f} s")
    print(f"iglu profile ({len(IGLU_COLUMNS)} columns):              {seconds['iglu']:6.2f} s")
    print(f"ratio iglu/default: {ratio:.2f}")
    met = "met" if ratio <= IGLU_OVER_DEFAULT_TARGET else "MISSED"
    print(f"target iglu/default <= {IGLU_OVER_DEFAULT_TARGET} (issue 21): {met}")


if __name__ == "__main__":
    main()
