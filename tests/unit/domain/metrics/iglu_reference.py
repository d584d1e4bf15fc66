"""R iglu 4.3.0's values for iglu's example data (tests/fixtures/iglu_r/README.md)."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "iglu_r"
FILES = ("example_data_5_subject.csv", "example_data_1_subject_with_days.csv")
NON_GRID_TOLERANCE = 1e-9
GRID_TOLERANCE = 1e-6


@cache
def _reference() -> dict[str, Any]:
    with (FIXTURES / "expected_default.json").open() as f:
        return dict(json.load(f)["results"])


def expected(function: str, file: str) -> dict[str, dict[str, float | None]]:
    """R's outputs of ``function`` (default arguments) by subject id, then output column."""
    return dict(_reference()[function][file])


@cache
def subjects(file: str) -> dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """Each subject's readings in file order: naive wall-clock epoch ms and mg/dL."""
    rows: dict[str, tuple[list[int], list[float]]] = {}
    with (FIXTURES / file).open(newline="") as f:
        for row in csv.DictReader(f):
            times, glucose = rows.setdefault(row["id"], ([], []))
            stamp = np.datetime64(row["time"].replace(" ", "T"), "ms")
            times.append(int(stamp.astype(np.int64)))
            glucose.append(float(row["gl"]) if row["gl"] not in ("", "NA") else np.nan)
    return {
        subject: (np.array(times, dtype=np.int64), np.array(glucose, dtype=np.float64))
        for subject, (times, glucose) in rows.items()
    }


def cases(function: str) -> list[tuple[str, str]]:
    """(file, subject) pairs R has values of ``function`` for, as pytest parameters."""
    return [(file, subject) for file in FILES for subject in expected(function, file)]
