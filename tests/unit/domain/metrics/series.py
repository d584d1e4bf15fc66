"""Synthetic CGM series and the adapter to the iglu-python oracle, shared by the tests."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

MINUTE_MS = 60_000
DAY_MS = 86_400_000
# 2024-03-04 00:00 as naive local epoch ms; series start later in the day on purpose.
DAY0_MS = 1_709_510_400_000


@dataclass(frozen=True)
class Series:
    """One patient's readings: naive local epoch ms and mg/dL."""

    times_ms: npt.NDArray[np.int64]
    glucose: npt.NDArray[np.float64]


def synthetic_cgm(
    seed: int,
    days: float = 5,
    step_min: int = 5,
    jitter_share: float = 0.25,
    jitter_s: int = 40,
    short_gaps: int = 4,
    long_gap_min: tuple[int, ...] = (120,),
    duplicates: int = 10,
) -> Series:
    """A realistic-looking CGM trace.

    Daily rhythm, three meal peaks, a few nocturnal dips below 70 and a couple of highs above
    250, AR(1) sensor noise, readings rounded to whole mg/dL; a share of readings off the
    nominal beat by up to ``jitter_s`` whole seconds; ``short_gaps`` 20-minute gaps (three
    readings lost) and one gap per entry of ``long_gap_min``; ``duplicates`` exact re-sends.
    """
    rng = np.random.default_rng(seed)
    start = DAY0_MS + int(rng.integers(6 * 60, 10 * 60)) * MINUTE_MS + 17_000
    n = int(days * 1440 / step_min)
    t = start + np.arange(n, dtype=np.int64) * step_min * MINUTE_MS
    jittered = rng.random(n) < jitter_share
    t[jittered] += rng.integers(-jitter_s, jitter_s + 1, jittered.sum()) * 1000

    hours = ((t - DAY0_MS) % DAY_MS) / 3_600_000
    day_index = (t - DAY0_MS) // DAY_MS
    g = 135 + 20 * np.sin(2 * np.pi * (hours - 9) / 24)
    for meal_hour in (7.5, 12.5, 19.0):
        amplitude = 40 + 70 * rng.random(int(day_index.max()) + 1)
        g += amplitude[day_index] * np.exp(-0.5 * ((hours - meal_hour - 1.0) / 0.9) ** 2)
    dip_depth = rng.uniform(30, 95, int(day_index.max()) + 1)
    g -= dip_depth[day_index] * np.exp(-0.5 * ((hours - 3.0) / 0.6) ** 2)
    noise = np.zeros(n)
    eps = rng.normal(0, 4, n)
    for i in range(1, n):
        noise[i] = 0.8 * noise[i - 1] + eps[i]
    g = np.clip(np.round(g + noise), 40, 400)

    keep = np.ones(n, dtype=bool)
    cuts = rng.choice(np.arange(20, n - 60), size=short_gaps + len(long_gap_min), replace=False)
    for cut, length_min in zip(cuts, [20] * short_gaps + list(long_gap_min), strict=True):
        keep[cut : cut + length_min // step_min - 1] = False
    t, g = t[keep], g[keep]
    dup = rng.choice(t.size, size=duplicates, replace=False)
    order = np.argsort(np.concatenate([np.arange(t.size), dup]), kind="stable")
    t = np.concatenate([t, t[dup]])[order]
    g = np.concatenate([g, g[dup]])[order]
    return Series(times_ms=t.astype(np.int64), glucose=g.astype(np.float64))


def unique_readings(series: Series) -> Series:
    """The series without exact re-sends (what the oracle is given)."""
    _, first = np.unique(series.times_ms, return_index=True)
    return Series(series.times_ms[first], series.glucose[first])


def oracle_frame(series: Series) -> Any:
    """The DataFrame iglu-python expects: ``id``, naive ``time``, ``gl``."""
    pd = pytest.importorskip("pandas")
    unique = unique_readings(series)
    return pd.DataFrame(
        {
            "id": "p1",
            "time": pd.to_datetime(unique.times_ms, unit="ms"),
            "gl": unique.glucose,
        }
    )


def oracle_value(function: Any, series: Series, column: str, **kwargs: Any) -> float:
    """One iglu-python metric of ``series`` (its pandas deprecation warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(function(oracle_frame(series), **kwargs)[column].iloc[0])


def relative_error(ours: float, theirs: float) -> float:
    """|ours - theirs| / max(|theirs|, 1e-12)."""
    return abs(ours - theirs) / max(abs(theirs), 1e-12)


def at_minutes(minutes: npt.ArrayLike, day0_ms: int = DAY0_MS) -> npt.NDArray[np.int64]:
    """Naive local epoch ms of minute offsets from ``day0_ms`` (midnight)."""
    return (day0_ms + np.round(np.asarray(minutes, dtype=np.float64) * MINUTE_MS)).astype(np.int64)


def same_float(a: float, b: float) -> bool:
    """Equal, or both NaN."""
    return (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)
