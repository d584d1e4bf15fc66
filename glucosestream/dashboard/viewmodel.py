"""Pure data shaping: query results → the column data each glyph and table draws.

No Bokeh, no I/O: every function takes mart rows (mg/dL, percentages as the ELT computed them)
and returns ``{column: [values…]}`` dictionaries, so tests can check exactly what is drawn.
The dashboard never recomputes a metric: it rearranges and converts what the marts hold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from glucosestream.dashboard.units import (
    ABOVE_VERY_HIGH,
    BELOW_VERY_LOW,
    GOAL_ACTIVE_PERCENT,
    GOAL_CV,
    GOAL_TAR_180,
    GOAL_TAR_250,
    GOAL_TBR_54,
    GOAL_TBR_70,
    GOAL_TIR,
    RANGE_BANDS,
    TARGET_HIGH_MG_DL,
    TARGET_LOW_MG_DL,
    TARGET_RANGE,
    VERY_HIGH_MG_DL,
    VERY_LOW_MG_DL,
    Unit,
    convert,
    convert_all,
    format_glucose,
    glucose_level,
)
from glucosestream.domain.metrics.iglu_profile import IGLU_FUNCTIONS, NUMERIC_COLUMNS

Columns = dict[str, list[Any]]

SLOTS_PER_DAY = 96
"""The agp_profile mart's 15-minute slots of local time."""
REPORT_DAYS = 14
TIR_DROP_POINTS = 5.0
"""Cohort flag: TIR fell by at least this many percentage points since the previous period."""


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _percent(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:.1f}%"


# ------------------------------------------------------------------------- patient AGP report


NOT_JUDGED = "— (too little data)"
"""A goal's verdict when the period has too little CGM data to judge it."""


def enough_data(period: Mapping[str, Any]) -> bool:
    """Battelino 2019: the AGP and its goals are reliable from 70 % CGM data over 14 days.
    Uses the report's own "% time CGM active", whatever range the marts computed it over."""
    active = _number(period.get("active_percent"))
    return active is not None and active >= GOAL_ACTIVE_PERCENT


def data_sufficiency_warning(period: Mapping[str, Any]) -> str | None:
    """The warning a report with too little CGM data carries (None: enough data)."""
    if enough_data(period):
        return None
    return (
        f"Too little CGM data for a reliable report: {_percent(period.get('active_percent'))} "
        f"of the period (≥ {GOAL_ACTIVE_PERCENT:.0f}% recommended, Battelino 2019)"
    )


def statistics_rows(period: Mapping[str, Any], unit: Unit) -> Columns:
    """The AGP report's "glucose statistics and targets" table. With too little CGM data the
    goals are not judged (a TIR from a few hours says nothing about the fortnight); the values
    stay visible, and the data-sufficiency row keeps its own verdict."""
    mean = _number(period.get("mean"))
    cv = _number(period.get("cv"))
    active = _number(period.get("active_percent"))
    judged = enough_data(period)

    def verdict(met: bool) -> str:
        return _verdict(met) if judged else NOT_JUDGED

    start, end = period.get("period_start"), period.get("period_end")
    rows: list[tuple[str, str, str, str]] = [
        ("Period", f"{start} – {end}", "14 days", ""),
        ("Days with data", f"{_number(period.get('days')) or 0:.1f}", "", ""),
        (
            "% time CGM active",
            _percent(active),
            f"≥{GOAL_ACTIVE_PERCENT:.0f}%",
            _verdict(judged),
        ),
        ("Mean glucose", format_glucose(mean, unit), "", ""),
        ("Glucose management indicator (GMI)", _percent(period.get("gmi")), "", ""),
        (
            "Glucose variability (CV)",
            _percent(cv),
            f"≤{GOAL_CV:.0f}%",
            verdict(cv is not None and cv <= GOAL_CV),
        ),
    ]
    below_target = glucose_level(TARGET_LOW_MG_DL, unit)
    above_target = glucose_level(TARGET_HIGH_MG_DL, unit)
    for label, column, goal, below in (
        (f"Time in range {TARGET_RANGE.label(unit)}", "tir_70_180", GOAL_TIR, False),
        (
            f"Time below {below_target} (incl. {BELOW_VERY_LOW.label(unit)})",
            "tbr_70",
            GOAL_TBR_70,
            True,
        ),
        (f"Time below {glucose_level(VERY_LOW_MG_DL, unit)}", "tbr_54", GOAL_TBR_54, True),
        (
            f"Time above {above_target} (incl. {ABOVE_VERY_HIGH.label(unit)})",
            "tar_180",
            GOAL_TAR_180,
            True,
        ),
        (f"Time above {glucose_level(VERY_HIGH_MG_DL, unit)}", "tar_250", GOAL_TAR_250, True),
    ):
        value = _number(period.get(column))
        met = value is not None and (value < goal if below else value > goal)
        rows.append((label, _percent(value), f"{'<' if below else '>'}{goal:g}%", verdict(met)))
    return {
        "metric": [r[0] for r in rows],
        "value": [r[1] for r in rows],
        "goal": [r[2] for r in rows],
        "met": [r[3] for r in rows],
    }


def _verdict(met: bool) -> str:
    return "✓ met" if met else "✗ not met"


def range_percentages(period: Mapping[str, Any]) -> dict[str, float]:
    """The five disjoint bands from the mart's cumulative columns (tbr_70 ⊇ tbr_54, …)."""
    tbr_54 = _number(period.get("tbr_54")) or 0.0
    tbr_70 = _number(period.get("tbr_70")) or 0.0
    tir = _number(period.get("tir_70_180")) or 0.0
    tar_180 = _number(period.get("tar_180")) or 0.0
    tar_250 = _number(period.get("tar_250")) or 0.0
    return {
        "very_low": tbr_54,
        "low": tbr_70 - tbr_54,
        "in_range": tir,
        "high": tar_180 - tar_250,
        "very_high": tar_250,
    }


BAR_X = 0.45
"""Where the stacked bar stands on the TIR figure's numeric x axis."""


def tir_bar(period: Mapping[str, Any], unit: Unit) -> tuple[Columns, Columns]:
    """Stacked time-in-ranges bar: (bar data for ``vbar_stack``, label data for ``text``), the
    bands' ranges written in ``unit``."""
    shares = range_percentages(period)
    bar: Columns = {"x": [BAR_X], **{band.key: [shares[band.key]] for band in RANGE_BANDS}}
    # Labels sit evenly spaced (as on the IDC report) so small bands stay readable; a leader
    # line joins each label to the middle of its band.
    labels: Columns = {"y": [], "bar_y": [], "text": [], "color": []}
    bottom = 0.0
    for index, band in enumerate(RANGE_BANDS):
        share = shares[band.key]
        labels["y"].append(10.0 + 20.0 * index)
        labels["bar_y"].append(bottom + share / 2)
        labels["text"].append(f"{band.label(unit)}: {share:.1f}% (goal {band.goal_text(unit)})")
        labels["color"].append(band.color)
        bottom += share
    return bar, labels


def agp_columns(profile: Mapping[str, Sequence[Any]], unit: Unit) -> Columns:
    """The modal day on all 96 slots (x in hours of local time); slots without readings are
    NaN so the bands show a gap rather than interpolate over missing data."""
    by_slot = {int(slot): i for i, slot in enumerate(profile.get("slot", []))}
    out: Columns = {"hour": [slot / 4 for slot in range(SLOTS_PER_DAY)]}
    for column in ("p05", "p25", "p50", "p75", "p95"):
        values = profile.get(column, [])
        raw = [values[by_slot[slot]] if slot in by_slot else None for slot in range(96)]
        out[column] = convert_all([_number(v) for v in raw], unit)
    counts = profile.get("n_readings", [])
    out["n_readings"] = [int(counts[by_slot[s]]) if s in by_slot else 0 for s in range(96)]
    return out


@dataclass(frozen=True, slots=True)
class DailyPanel:
    """One day of the daily-profiles strip."""

    day: date
    columns: Columns
    """``hour`` (0–24, local) and ``glucose`` in the display unit."""

    @property
    def title(self) -> str:
        return self.day.strftime("%a %d %b")

    @property
    def empty(self) -> bool:
        return not self.columns["hour"]


def daily_panels(
    readings: Mapping[str, Sequence[Any]], first_day: date, unit: Unit, days: int = REPORT_DAYS
) -> list[DailyPanel]:
    """One panel per local day first_day … first_day + days - 1, data or not (a missing day
    is information a clinician needs to see)."""
    by_day: dict[date, tuple[list[float], list[float]]] = {
        first_day + timedelta(days=n): ([], []) for n in range(days)
    }
    for when, glucose in zip(
        readings.get("local_time", []), readings.get("glucose_mg_dl", []), strict=True
    ):
        bucket = by_day.get(when.date())
        if bucket is None or glucose is None:
            continue
        midnight = datetime.combine(when.date(), datetime.min.time())
        bucket[0].append((when - midnight).total_seconds() / 3600)
        bucket[1].append(float(glucose))
    return [
        DailyPanel(day, {"hour": hours, "glucose": convert_all(values, unit)})
        for day, (hours, values) in sorted(by_day.items())
    ]


def episode_rows(episodes: Mapping[str, Sequence[Any]], unit: Unit) -> Columns:
    kinds = list(episodes.get("type", []))
    return {
        "episode": [
            f"{kind} {level}".replace("_", " ")
            for kind, level in zip(kinds, episodes.get("level", []), strict=True)
        ],
        "start": [f"{t:%a %d %b %H:%M}" for t in episodes.get("start_local", [])],
        "duration_min": [int(d) for d in episodes.get("duration_min", [])],
        "extreme": [format_glucose(_number(v), unit) for v in episodes.get("extreme_mg_dl", [])],
        "mean": [format_glucose(_number(v), unit) for v in episodes.get("mean_mg_dl", [])],
    }


def iglu_rows(iglu: Mapping[str, Sequence[Any]]) -> Columns:
    """The report's "all metrics" table: iglu's name, the value (4 decimals; empty for R's
    NA), and the function's reference, in the profile's column order."""
    values = dict(zip(iglu.get("metric", []), iglu.get("value", []), strict=True))
    metrics = [name for name in NUMERIC_COLUMNS if name in values]
    references = {function.name: function.reference for function in IGLU_FUNCTIONS}
    return {
        "metric": metrics,
        "value": [_iglu_value(values[name]) for name in metrics],
        "reference": [references[name.split(".", 1)[0]] for name in metrics],
    }


def _iglu_value(value: Any) -> str:
    number = _number(value)
    if number is None:
        return ""
    return f"{number:.0f}" if number.is_integer() and abs(number) < 1e15 else f"{number:.4f}"


# ---------------------------------------------------------------------------- cohort triage

FLAG_NAMES = ("TBR above goal", "level-2 hypo", "TIR fell ≥5", "low wear")


def cohort_rows(cohort: Mapping[str, Sequence[Any]], unit: Unit) -> Columns:
    """The triage table: one row per patient, flags as text and as a count to sort by."""
    out: Columns = {
        "patient_id": list(cohort.get("patient_id", [])),
        "tir": [],
        "tbr_70": [],
        "tbr_54": [],
        "tar_180": [],
        "cv": [],
        "gmi": [],
        "mean": [],
        "active_percent": [],
        "level2_hypos": [],
        "tir_change": [],
        "flags": [],
        "n_flags": [],
    }
    for i in range(len(out["patient_id"])):

        def value(column: str, row: int = i) -> float | None:
            return _number(cohort[column][row])

        tir, previous = value("tir_70_180"), value("previous_tir")
        change = None if tir is None or previous is None else tir - previous
        tbr_70, tbr_54 = value("tbr_70") or 0.0, value("tbr_54") or 0.0
        level2 = int(value("hypo_lv2_episodes") or 0)
        active = value("active_percent")
        flags = [
            tbr_70 > GOAL_TBR_70 or tbr_54 > GOAL_TBR_54,
            level2 > 0,
            change is not None and change <= -TIR_DROP_POINTS,
            active is not None and active < GOAL_ACTIVE_PERCENT,
        ]
        mean = convert(value("mean"), unit)
        out["tir"].append(_round(tir))
        out["tbr_70"].append(_round(tbr_70))
        out["tbr_54"].append(_round(tbr_54))
        out["tar_180"].append(_round(value("tar_180")))
        out["cv"].append(_round(value("cv")))
        out["gmi"].append(_round(value("gmi"), 2))
        out["mean"].append(_round(mean, 0 if unit is Unit.MG_DL else 1))
        out["active_percent"].append(_round(active))
        out["level2_hypos"].append(level2)
        out["tir_change"].append(_round(change))
        out["flags"].append(", ".join(n for n, f in zip(FLAG_NAMES, flags, strict=True) if f))
        out["n_flags"].append(sum(flags))
    # Triage order: most flags first, then the lowest TIR.
    order = sorted(
        range(len(out["patient_id"])),
        key=lambda i: (-out["n_flags"][i], _sort_value(out["tir"][i])),
    )
    return {name: [values[i] for i in order] for name, values in out.items()}


def _sort_value(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _round(value: float | None, digits: int = 1) -> float:
    return float("nan") if value is None else round(value, digits)


TIR_EDGES: tuple[float, ...] = tuple(float(e) for e in range(0, 101, 10))
CV_EDGES: tuple[float, ...] = tuple(float(e) for e in range(0, 61, 5))
"""CV histogram bins (%); values above 60 are counted in the last bin (clamped), as in the
privacy release, so the two views bin alike."""


def histogram(values: Sequence[float | None], edges: Sequence[float]) -> Columns:
    """Quad data (left, right, top) counting values per bin; values are clamped to the edges."""
    finite = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    clamped = np.clip(finite, edges[0], edges[-1])
    counts, _ = np.histogram(clamped, bins=np.asarray(edges, dtype=float))
    return histogram_columns([float(c) for c in counts], edges)


def histogram_columns(counts: Sequence[float], edges: Sequence[float]) -> Columns:
    if len(counts) != len(edges) - 1:
        raise ValueError(f"{len(counts)} counts for {len(edges) - 1} bins")
    return {
        "left": list(edges[:-1]),
        "right": list(edges[1:]),
        "top": [float(c) for c in counts],
    }
