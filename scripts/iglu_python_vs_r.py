"""Where the iglu-python port departs from R iglu 4.3.0 on iglu's example data, beside ours.

For every R iglu function of the iglu profile (default arguments) and every example subject
(tests/fixtures/iglu_r/), the largest relative difference from R's value of iglu-python (each
subject computed alone, naive times read as UTC) and of GlucoseStream's profile. Prints one line
per function; the README's iglu-profile section quotes it. The R values are the reference.

    python scripts/iglu_python_vs_r.py
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fixtures' loader lives in tests/

import pandas as pd  # noqa: E402

from glucosestream.domain.metrics.iglu_profile import (  # noqa: E402
    IGLU_FUNCTIONS,
    iglu_profile,
    patient_input,
)
from tests.unit.domain.metrics.iglu_reference import FILES, FIXTURES, subjects  # noqa: E402

SKIPPED = {"start_date", "end_date"}  # instants, compared by the tests


def relative(got: Any, want: float | None) -> float:
    missing = got is None or (isinstance(got, float) and math.isnan(got))
    if want is None or missing:
        return 0.0 if want is None and missing else math.inf
    return abs(float(got) - want) / max(abs(want), 1e-12)


def iglu_python_rows(iglu: Any, function: str, frame: pd.DataFrame) -> dict[str, Any]:
    if function == "episode_calculation":
        result = iglu.episode_calculation(frame)
        return {
            f"{row['type']}_{row['level']}.{stat}": row[stat]
            for _, row in result.iterrows()
            for stat in ("avg_ep_per_day", "avg_ep_duration", "avg_ep_gl", "total_episodes")
        }
    row = getattr(iglu, function)(frame).iloc[0]
    return {str(key): value for key, value in row.items()}


def main() -> None:
    import iglu_python as iglu

    warnings.filterwarnings("ignore")
    iglu.utils.set_local_tz("UTC")
    reference = json.loads((FIXTURES / "expected_default.json").read_text())["results"]
    worst: dict[str, list[float]] = {f.name: [0.0, 0.0] for f in IGLU_FUNCTIONS}
    errors: dict[str, str] = {}
    for file in FILES:
        frame = pd.read_csv(FIXTURES / file, index_col=0)
        frame["time"] = pd.to_datetime(frame["time"])
        frame["gl"] = frame["gl"].astype(float)
        for subject, (times, glucose) in subjects(file).items():
            ours = iglu_profile(patient_input(times, glucose))
            alone = frame[frame["id"] == subject].copy()
            for function in IGLU_FUNCTIONS:
                wanted = reference[function.name][file][subject]
                try:
                    theirs = iglu_python_rows(iglu, function.name, alone.copy())
                except Exception as error:
                    errors[function.name] = f"{type(error).__name__}: {str(error)[:70]}"
                    theirs = {}
                for output, want in wanted.items():
                    if output in SKIPPED:
                        continue
                    ratios = worst[function.name]
                    ratios[0] = max(ratios[0], relative(theirs.get(output), want))
                    ratios[1] = max(ratios[1], relative(ours[f"{function.name}.{output}"], want))
    print(
        f"{'function':22} {'iglu-python vs R':>18} {'ours vs R':>12}  (largest relative difference)"
    )
    for name, (port, own) in worst.items():
        note = f"  {errors[name]}" if name in errors else ""
        print(f"{name:22} {port:18.3g} {own:12.3g}{note}")


if __name__ == "__main__":
    main()
