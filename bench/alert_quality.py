"""Alert-quality benchmark: URGENT_LOW_SOON today against the rule before it, on true lows.

Both rules run through the same engine (``glucosestream.domain.alerts.replay``, readings arriving
when measured, as ``glucosestream alerts replay`` does) over the same data, in the same run:
  today    — the forecast of ``glucosestream/domain/alerts/fall_forecast.py`` as it stands
             (cleaned window, enough buckets, no step artefact, fall capped at 4 mg/dL/min);
  previous — the baseline: the rule before 2fcd6f8, the least-squares slope of every reading of
             the last 15 minutes spanning >= 10 minutes, projected = g + slope x 20 min, no
             cleaning, no gate, no cap (``previous_forecast`` below, a copy of the old tracker's
             lines). Only the tracker's forecast is swapped; episodes, deduplication, URGENT_LOW
             and the other rules are the engine's own. The old rule's other difference, no
             freshness check, cannot show here: every reading arrives when it is measured.
Data:
  (a) simulated: type 1 and type 2 patients (half each) with the simulator's default sensor
      artefacts (compression lows, signal loss, warm-up, calibration drift and noise) and device
      mix (40 % Libre-like 15-minute sensors); the truth is the interstitial glucose and each
      reading's artefact label (``stream.simulator.ground_truth``). Warm-up readings are not
      replayed (the alerts consumer never pages on them).
  (b) real CGM data: iglu's example data sets (``example_data_5_subject``: 5 adults with type 2
      diabetes; ``example_data_hall``: 19 adults, 14 of them pre-diabetic, Hall et al. 2018),
      shipped in the iglu-python source distribution (its wheel does not ship them; the
      benchmark fetches the sdist of the installed version with pip once, into .gs/cache).
      The reported glucose is the truth there; there are no artefact labels.
Metrics, per rule:
  sensitivity — share of true level-2 episodes (truth < 54 mg/dL for >= 15 min, grid-counted
      as the tracker does, runs split at gaps > 45 min; one ends after 15 min at or above 54)
      with an URGENT_LOW_SOON or URGENT_LOW page within the 30 minutes before the episode's
      first reading < 54, or at it. Misses are told apart: episodes that begin in sensor
      warm-up (never paged on, by design), inside a low already paged more than 30 minutes
      before and not recovered since (the engine pages once per episode), and the others; the
      share counting the second kind as paged is printed below it;
  lead — median minutes from the earliest URGENT_LOW_SOON of that window to that first reading;
  false URGENT_LOW_SOON / patient-day — pages with no true glucose < 70 mg/dL in the 30 minutes
      after the page (the paging reading included), per patient-day of readings (wear time);
      for simulated data also over the 5-minute sensors alone (the 15-minute ones, which today's
      rule never forecasts from, dilute the cohort's figure);
  artefact pages — false URGENT_LOW_SOON pages, and URGENT_LOW pages at a true glucose >= 70,
      whose paging reading or a reading of its 15-minute window carries an artefact label.
Targets (issue 17): sensitivity >= 90 %, median lead >= 10 min, <= 0.2 false URGENT_LOW_SOON
per patient-day, 0 pages from labelled artefacts.

    python bench/alert_quality.py [--patients 200] [--days 14] [--seed 17] [--details]

``--details`` lists today's missed episodes and false URGENT_LOW_SOON pages with the readings
around them (minute: reported/true, artefact initial).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from statistics import median
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from glucosestream.domain.alerts import AlertConfig, AlertReading
from glucosestream.domain.alerts import tracker as tracker_module
from glucosestream.domain.alerts.config import MINUTE_MS
from glucosestream.domain.alerts.eligibility import may_alert
from glucosestream.domain.alerts.fall_forecast import FallForecast
from glucosestream.domain.alerts.model import Alert, AlertKind
from glucosestream.domain.alerts.rate import project, rate_of_change
from glucosestream.domain.alerts.replay import replay
from stream.simulator import Artefact, CohortConfig, Phenotype, build_cohort, ground_truth

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".gs" / "cache"
IGLU_DATA_SETS = ("example_data_5_subject.csv", "example_data_hall.csv")

LEVEL_2 = 54.0
LEVEL_1 = 70.0
EPISODE_MS = 15 * MINUTE_MS
RUN_GAP_MS = AlertConfig().max_gap_ms
BEFORE_MS = 30 * MINUTE_MS
AFTER_MS = 30 * MINUTE_MS
WINDOW_MS = 15 * MINUTE_MS

TARGET_SENSITIVITY = 0.90
TARGET_LEAD_MIN = 10.0
TARGET_FALSE_PER_DAY = 0.2
TARGET_ARTEFACT_PAGES = 0
PAGES = (AlertKind.URGENT_LOW_SOON, AlertKind.URGENT_LOW)
ALREADY_PAGED = "paged earlier in the same low"
FORECASTING_CADENCE_MS = 10 * MINUTE_MS
"""Sensors read more often than this can forecast (Libre-like 15-minute ones never do)."""


def previous_forecast(
    recent: Sequence[tuple[int, int]], cadence_ms: int, config: AlertConfig
) -> FallForecast | None:
    """The baseline: the forecast the tracker computed before 2fcd6f8 (``git show
    2fcd6f8^:glucosestream/domain/alerts/tracker.py``, the lines after ``settled = ...``): every
    reading of the window, a span of at least 10 minutes, no cleaning, gate, cap or floor."""
    if recent[-1][0] - recent[0][0] < config.min_rate_span_ms:
        return None
    rate = rate_of_change(recent)
    if rate is None:
        return None
    projected = project(recent[-1][1], rate, config.soon_horizon_ms / MINUTE_MS)
    return FallForecast(rate, projected, rate < 0 and projected < config.soon_threshold)


@contextmanager
def previous_rule() -> Iterator[None]:
    """The engine with the tracker's forecast swapped for the baseline (and nothing else)."""
    with mock.patch.object(tracker_module, "forecast", previous_forecast):
        yield


@dataclass
class Trace:
    """One patient's readings in time order, with the truth they are judged against."""

    patient_id: str
    group: str
    times: NDArray[np.int64]
    reported: NDArray[np.int64]
    truth: NDArray[np.float64]
    alertable: NDArray[np.bool_]
    """Readings the engine is given (not warm-up)."""
    labels: list[str] | None
    """Artefact label per reading (None: real data, no labels)."""
    device_id: str = ""
    cadence_ms: int = field(init=False)

    def __post_init__(self) -> None:
        steps = np.diff(self.times)
        self.cadence_ms = int(np.median(steps)) if steps.size else 5 * MINUTE_MS

    @property
    def patient_days(self) -> float:
        return len(self.times) * self.cadence_ms / 86_400_000

    def between(self, lo: int, hi: int) -> slice:
        """Readings measured in ``[lo, hi]``."""
        return slice(
            int(np.searchsorted(self.times, lo, "left")),
            int(np.searchsorted(self.times, hi, "right")),
        )


def level_2_episodes(trace: Trace) -> list[int]:
    """Index of the first reading of each true level-2 episode (truth < 54 for >= 15 min)."""
    below = trace.truth < LEVEL_2
    starts: list[int] = []
    last_end: int | None = None
    i, n = 0, len(below)
    while i < n:
        if not below[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and below[j + 1] and trace.times[j + 1] - trace.times[j] <= RUN_GAP_MS:
            j += 1
        lasts = trace.times[j] - trace.times[i] + trace.cadence_ms >= EPISODE_MS
        # An episode ends after 15 minutes back at or above 54: a run closer to it is inside it.
        if last_end is not None and trace.times[i] - trace.times[last_end] < EPISODE_MS:
            last_end = j
        elif lasts:
            starts.append(i)
            last_end = j
        i = j + 1
    return starts


def why_missed(trace: Trace, alerts: Sequence[Alert], first: int) -> str:
    """Why no page preceded the episode starting at reading ``first``. A paged low is still open
    when it was not announced RECOVERED before, and no gap longer than 45 minutes (which ends
    it) lies between the page and the episode."""
    at = int(trace.times[first])
    if not trace.alertable[first]:
        return "in sensor warm-up (no page by design)"
    recovered = {a.episode_start: a.measured_at for a in alerts if a.kind is AlertKind.RECOVERED}
    for page in alerts:
        if page.kind in PAGES and page.measured_at < at - BEFORE_MS:
            ended = recovered.get(page.episode_start)
            since = trace.times[trace.between(page.measured_at, at)]
            gap = bool(since.size > 1 and np.diff(since).max() > RUN_GAP_MS)
            if (ended is None or ended > at) and not gap:
                return ALREADY_PAGED
    return "other"


def replay_traces(traces: Sequence[Trace]) -> dict[str, list[Alert]]:
    pairs = [
        (t.patient_id, AlertReading(int(m), int(g), int(m), t.device_id))
        for t in traces
        for m, g, ok in zip(t.times, t.reported, t.alertable, strict=True)
        if ok
    ]
    by_patient: dict[str, list[Alert]] = {t.patient_id: [] for t in traces}
    for alert in replay(pairs, AlertConfig()):
        by_patient[alert.patient_id].append(alert)
    return by_patient


@dataclass
class Scores:
    episodes: int = 0
    detected: int = 0
    leads: list[float] = field(default_factory=list)
    soon_pages: int = 0
    false_soon: int = 0
    urgent_pages: int = 0
    artefact_pages: Counter[str] = field(default_factory=Counter)
    patient_days: float = 0.0
    missed: list[tuple[str, int]] = field(default_factory=list)
    missed_why: Counter[str] = field(default_factory=Counter)
    false_cases: list[tuple[str, Alert]] = field(default_factory=list)

    @property
    def sensitivity(self) -> float | None:
        return self.detected / self.episodes if self.episodes else None

    @property
    def sensitivity_in_open_lows(self) -> float | None:
        """Counting as paged an episode inside a low already paged earlier."""
        already = self.missed_why[ALREADY_PAGED]
        return (self.detected + already) / self.episodes if self.episodes else None

    @property
    def lead(self) -> float | None:
        return median(self.leads) if self.leads else None

    @property
    def false_per_day(self) -> float:
        return self.false_soon / self.patient_days if self.patient_days else 0.0


def score(traces: Sequence[Trace], alerts: dict[str, list[Alert]]) -> Scores:
    s = Scores()
    for trace in traces:
        s.patient_days += trace.patient_days
        pages = [a for a in alerts[trace.patient_id] if a.kind in PAGES]
        for first in level_2_episodes(trace):
            s.episodes += 1
            at = int(trace.times[first])
            near = [a for a in pages if at - BEFORE_MS <= a.measured_at <= at]
            if near:
                s.detected += 1
            else:
                s.missed.append((trace.patient_id, at))
                s.missed_why[why_missed(trace, alerts[trace.patient_id], first)] += 1
            soon = [a.measured_at for a in near if a.kind is AlertKind.URGENT_LOW_SOON]
            if soon:
                s.leads.append((at - min(soon)) / MINUTE_MS)
        for page in pages:
            window = trace.between(page.measured_at - WINDOW_MS, page.measured_at)
            labels = (
                {
                    label
                    for label, ok in zip(trace.labels[window], trace.alertable[window], strict=True)
                    if ok and label != Artefact.NONE.value
                }
                if trace.labels is not None
                else set()
            )
            if page.kind is AlertKind.URGENT_LOW_SOON:
                s.soon_pages += 1
                after = trace.truth[trace.between(page.measured_at, page.measured_at + AFTER_MS)]
                false = not bool((after < LEVEL_1).any())
                if false:
                    s.false_soon += 1
                    s.false_cases.append((trace.patient_id, page))
            else:
                s.urgent_pages += 1
                index = int(np.searchsorted(trace.times, page.measured_at))
                false = trace.truth[index] >= LEVEL_1
            if false and labels:
                label = next(a.value for a in Artefact if a.value in labels)
                s.artefact_pages[f"{page.kind.value} {label}"] += 1
    return s


# -- data ---------------------------------------------------------------------------------------


def simulated(patients: int, days: float, seed: int) -> list[Trace]:
    config = CohortConfig(
        patients=patients,
        days=days,
        seed=seed,
        phenotype_mix={Phenotype.TYPE_1: 0.5, Phenotype.TYPE_2: 0.5},
    )
    cohort = build_cohort(config)
    rows: dict[str, list[tuple[int, int, float, bool, str]]] = {p.patient_id: [] for p in cohort}
    for row in ground_truth(config, cohort):
        rows[row.patient_id].append(
            (
                row.measured_at,
                row.glucose_mg_dl,
                row.interstitial_mg_dl,
                may_alert(row.status),
                row.artefact.value,
            )
        )
    traces = []
    for patient in cohort:
        mine = sorted(rows[patient.patient_id])
        traces.append(
            Trace(
                patient_id=patient.patient_id,
                group=f"{patient.phenotype.value} {patient.cadence_minutes}-min",
                times=np.array([r[0] for r in mine], np.int64),
                reported=np.array([r[1] for r in mine], np.int64),
                truth=np.array([r[2] for r in mine], np.float64),
                alertable=np.array([r[3] for r in mine], np.bool_),
                labels=[r[4] for r in mine],
                device_id=patient.device_id,
            )
        )
    return traces


def iglu_files() -> tuple[dict[str, bytes], str]:
    """iglu's example data sets by name, and where they came from."""
    version = metadata.version("iglu-python")
    package = Path(str(metadata.distribution("iglu-python").locate_file("iglu_python")))
    found = {
        path.name: path.read_bytes()
        for path in package.rglob("*.csv")
        if path.name in IGLU_DATA_SETS
    }
    if len(found) == len(IGLU_DATA_SETS):
        return found, f"iglu-python {version} (installed package)"
    sdist = CACHE / f"iglu_python-{version}.tar.gz"
    if not sdist.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    f"iglu-python=={version}",
                    "--dest",
                    scratch,
                ],
                check=True,
                capture_output=True,
            )
            (downloaded,) = Path(scratch).glob("iglu_python-*.tar.gz")
            downloaded.replace(sdist)
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            name = Path(member.name).name
            if member.isfile() and name in IGLU_DATA_SETS and "/tests/data/" in member.name:
                extracted = archive.extractfile(member)
                assert extracted is not None
                found[name] = extracted.read()
    return found, f"iglu-python {version} source distribution (tests/data)"


def real_traces(name: str, content: bytes) -> list[Trace]:
    frame = pd.read_csv(io.BytesIO(content))
    # Naive local times, read as UTC: only differences matter here.
    times = pd.to_datetime(frame["time"]).to_numpy(dtype="datetime64[ms]").astype(np.int64)
    frame = frame.assign(measured_at=times).dropna(subset=["gl"])
    traces = []
    for patient, rows in frame.groupby("id", sort=True):
        rows = rows.sort_values("measured_at").drop_duplicates("measured_at")
        glucose = rows["gl"].to_numpy(np.float64)
        traces.append(
            Trace(
                patient_id=f"{name}:{patient}",
                group=name,
                times=rows["measured_at"].to_numpy(np.int64),
                reported=np.rint(glucose).astype(np.int64),
                truth=glucose,
                alertable=np.ones(len(rows), np.bool_),
                labels=None,
            )
        )
    return traces


# -- report -------------------------------------------------------------------------------------


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("meets" if met else "MISSES")


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def minutes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def table(
    scores: dict[str, Scores], labelled: bool, forecasting: dict[str, Scores] | None = None
) -> None:
    prev, today = scores["previous"], scores["today"]
    print(f"   {'':46} {'previous':>10} {'today':>10}   target: previous / today")
    print(f"   {'true level-2 episodes':46} {prev.episodes:>10} {today.episodes:>10}")

    def row(name: str, a: str, b: str, target: str, met: tuple[bool | None, bool | None]) -> None:
        print(f"   {name:46} {a:>10} {b:>10}   {target}: {verdict(met[0])} / {verdict(met[1])}")

    def sens_met(s: Scores) -> bool | None:
        return None if s.sensitivity is None else s.sensitivity >= TARGET_SENSITIVITY

    def lead_met(s: Scores) -> bool | None:
        return None if s.lead is None else s.lead >= TARGET_LEAD_MIN

    row(
        "sensitivity (ULS or URGENT_LOW <= 30 min before)",
        percent(prev.sensitivity),
        percent(today.sensitivity),
        ">= 90 %",
        (sens_met(prev), sens_met(today)),
    )
    row(
        "median lead of URGENT_LOW_SOON (min)",
        minutes(prev.lead),
        minutes(today.lead),
        ">= 10",
        (lead_met(prev), lead_met(today)),
    )
    print(
        f"   {'  counting a page earlier in the same low':46} "
        f"{percent(prev.sensitivity_in_open_lows):>10} "
        f"{percent(today.sensitivity_in_open_lows):>10}"
    )
    for why in sorted(set(prev.missed_why) | set(today.missed_why)):
        print(f"   {'  missed: ' + why:46} {prev.missed_why[why]:>10} {today.missed_why[why]:>10}")
    print(
        f"   {'  episodes with an URGENT_LOW_SOON in the window':46} "
        f"{len(prev.leads):>10} {len(today.leads):>10}"
    )
    print(f"   {'URGENT_LOW_SOON pages':46} {prev.soon_pages:>10} {today.soon_pages:>10}")
    print(f"   {'URGENT_LOW pages':46} {prev.urgent_pages:>10} {today.urgent_pages:>10}")
    row(
        "false URGENT_LOW_SOON per patient-day",
        f"{prev.false_per_day:.3f}",
        f"{today.false_per_day:.3f}",
        "<= 0.2",
        (
            prev.false_per_day <= TARGET_FALSE_PER_DAY,
            today.false_per_day <= TARGET_FALSE_PER_DAY,
        ),
    )
    print(f"   {'  (false URGENT_LOW_SOON pages)':46} {prev.false_soon:>10} {today.false_soon:>10}")
    if forecasting is not None:
        a, b = forecasting["previous"].false_per_day, forecasting["today"].false_per_day
        row(
            "  5-minute sensors only (15-minute never forecast)",
            f"{a:.3f}",
            f"{b:.3f}",
            "<= 0.2",
            (a <= TARGET_FALSE_PER_DAY, b <= TARGET_FALSE_PER_DAY),
        )
    if labelled:
        a, b = sum(prev.artefact_pages.values()), sum(today.artefact_pages.values())
        row(
            "pages from labelled artefacts",
            str(a),
            str(b),
            "0",
            (a <= TARGET_ARTEFACT_PAGES, b <= TARGET_ARTEFACT_PAGES),
        )
        for label in sorted(set(prev.artefact_pages) | set(today.artefact_pages)):
            print(
                f"   {'  ' + label:46} {prev.artefact_pages[label]:>10} "
                f"{today.artefact_pages[label]:>10}"
            )
    else:
        print(f"   {'pages from labelled artefacts':46} {'n/a':>10} {'n/a':>10}   (no labels)")
    if prev.false_soon:
        print(
            f"   ratio today/previous: false URGENT_LOW_SOON "
            f"{today.false_soon / prev.false_soon:.2f}, URGENT_LOW_SOON pages "
            f"{today.soon_pages / max(prev.soon_pages, 1):.2f}"
        )


def by_group(traces: Sequence[Trace], alerts: dict[str, dict[str, list[Alert]]]) -> None:
    groups = sorted({t.group for t in traces})
    print(
        "   by phenotype and sensor: episodes, sensitivity, false ULS/patient-day (prev -> today)"
    )
    for group in groups:
        mine = [t for t in traces if t.group == group]
        prev, today = (score(mine, alerts[rule]) for rule in ("previous", "today"))
        print(
            f"     {group:12} {len(mine):>3} patients {today.patient_days:>7.1f} days "
            f"{today.episodes:>4} episodes  sensitivity {percent(prev.sensitivity):>8} -> "
            f"{percent(today.sensitivity):>8}  false {prev.false_per_day:.3f} -> "
            f"{today.false_per_day:.3f}"
        )


def details(traces: Sequence[Trace], scores: Scores) -> None:
    by_id = {t.patient_id: t for t in traces}

    def around(trace: Trace, at: int) -> str:
        window = trace.between(at - 30 * MINUTE_MS, at + 30 * MINUTE_MS)
        cells = []
        for k in range(window.start, window.stop):
            label = "" if trace.labels is None or trace.labels[k] == "none" else trace.labels[k][0]
            mark = "*" if trace.times[k] == at else ""
            minute = (int(trace.times[k]) - at) / MINUTE_MS
            cells.append(f"{mark}{minute:+.0f}:{trace.reported[k]}/{trace.truth[k]:.0f}{label}")
        return " ".join(cells)

    def stamp(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%m-%d %H:%M")

    print("   missed episodes (minute:reported/truth, label initial):")
    for patient, at in scores.missed:
        print(
            f"     {patient[:14]} {by_id[patient].group} {stamp(at)}  {around(by_id[patient], at)}"
        )
    print("   false URGENT_LOW_SOON pages:")
    for patient, page in scores.false_cases:
        print(
            f"     {patient[:14]} {by_id[patient].group} {stamp(page.measured_at)} rate "
            f"{page.rate_mg_dl_per_min} proj {page.projected_mg_dl}  "
            f"{around(by_id[patient], page.measured_at)}"
        )


def evaluate(traces: list[Trace], labelled: bool, show: bool, groups: bool = False) -> None:
    """Replay ``traces`` under both rules and print the comparison."""
    alerts = {"previous": _previous(traces), "today": replay_traces(traces)}
    scores = {rule: score(traces, found) for rule, found in alerts.items()}
    five = [t for t in traces if t.cadence_ms < FORECASTING_CADENCE_MS]
    forecasting = (
        {rule: score(five, found) for rule, found in alerts.items()}
        if groups and len(five) < len(traces)
        else None
    )
    table(scores, labelled, forecasting)
    if groups:
        by_group(traces, alerts)
    if show:
        details(traces, scores["today"])


def _previous(traces: Sequence[Trace]) -> dict[str, list[Alert]]:
    with previous_rule():
        return replay_traces(traces)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--details", action="store_true", help="list today's missed episodes and false pages"
    )
    args = parser.parse_args()

    traces = simulated(args.patients, args.days, args.seed)
    readings = sum(len(t.times) for t in traces)
    days = sum(t.patient_days for t in traces)
    labels = Counter(label for t in traces if t.labels for label in t.labels)
    print(
        f"(a) simulated: {args.patients} patients (type 1 and type 2, half each) x "
        f"{args.days:g} days, seed {args.seed}: {readings:,} readings, {days:.1f} patient-days "
        f"of wear; labels: " + ", ".join(f"{n:,} {label}" for label, n in sorted(labels.items()))
    )
    evaluate(traces, labelled=True, show=args.details, groups=True)

    print()
    try:
        files, source = iglu_files()
    except (OSError, subprocess.CalledProcessError, ValueError) as error:
        print(f"(b) real CGM data: n/a (iglu's example data could not be had: {error})")
        return
    for name in IGLU_DATA_SETS:
        if name not in files:
            print(f"(b) {name}: n/a (not in {source})")
            continue
        real = real_traces(name.removesuffix(".csv"), files[name])
        readings = sum(len(t.times) for t in real)
        days = sum(t.patient_days for t in real)
        print(
            f"(b) real CGM data, iglu's {name.removesuffix('.csv')} ({source}): "
            f"{len(real)} patients, {readings:,} readings, {days:.1f} patient-days; "
            "truth = reported glucose"
        )
        evaluate(real, labelled=False, show=args.details)


if __name__ == "__main__":
    main()
