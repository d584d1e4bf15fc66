"""Plot a week of one simulated type 1 patient (README figure).

make docs-figures     # installs the docs extra (matplotlib) and writes docs/img/*.png
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stream.simulator import CohortConfig, Phenotype, build_cohort, simulate

OUT = Path(__file__).resolve().parents[1] / "img" / "simulated_t1_week.png"


def main() -> None:
    config = CohortConfig(patients=12, days=7, seed=1)
    type_1 = {p.patient_id: p for p in build_cohort(config) if p.phenotype is Phenotype.TYPE_1}
    deliveries = [d for d in simulate(config) if d.reading.patient_id in type_1]
    # Show the type 1 patient with the most lows: the week a clinician would look at first.
    lows = {pid: 0 for pid in type_1}
    for delivery in deliveries:
        lows[delivery.reading.patient_id] += delivery.reading.glucose_mg_dl < 70
    patient = type_1[max(lows, key=lambda pid: lows[pid])]
    seen: set[str] = set()
    points = []
    for delivery in deliveries:
        reading = delivery.reading
        if reading.patient_id != patient.patient_id or reading.event_id in seen:
            continue
        seen.add(reading.event_id)
        local = datetime.fromtimestamp(reading.measured_at / 1000, tz=UTC) + timedelta(
            minutes=reading.utc_offset_minutes
        )
        points.append((local.replace(tzinfo=None), reading.glucose_mg_dl, reading.status.value))
    points.sort()

    fig, ax = plt.subplots(figsize=(12, 4), dpi=110)
    ax.axhspan(70, 180, color="#d9f2d9", label="target 70-180 mg/dL")
    ax.axhline(54, color="#c0392b", lw=0.8, ls="--", label="54 mg/dL (level 2 hypo)")
    ok = [(t, g) for t, g, s in points if s == "OK"]
    other = [(t, g) for t, g, s in points if s != "OK"]
    ax.plot([t for t, _ in ok], [g for _, g in ok], ".", ms=2.5, color="#1f4e79", label="reading")
    if other:
        ax.plot(
            [t for t, _ in other],
            [g for _, g in other],
            "x",
            ms=4,
            color="#e67e22",
            label="warm-up / out of sensor range",
        )
    ax.set_ylim(35, 405)
    ax.set_ylabel("glucose (mg/dL)")
    ax.set_title(
        f"Simulated type 1 patient {patient.source_id} ({patient.device.name}, "
        f"{patient.timezone}), one week, local time; seed 1"
    )
    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7, ncols=4, frameon=False)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
