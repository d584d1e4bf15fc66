"""R's base statistics as iglu 4.3.0 calls them, shared by the non-grid metrics.

Private helpers: the readings' clean-up every non-grid metric starts with (R's ``na.rm`` /
``na.omit``), R's ``quantile(type = 7)``, ``median``, ``sd`` and the way R turns a number into
a column name (``paste0``), the percentage of readings a condition holds for
(``mean(cond) * 100``), so the metric modules state their formulas and nothing else; and
``mean``/``sd`` with ``na.rm = TRUE`` along an axis of the day-by-day grid, silent where numpy's
``nanmean``/``nanstd`` warn (R gives NaN for the mean of nothing, NA for the sd of one value).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "glucose_values",
    "r_label",
    "r_mean",
    "r_mean_along",
    "r_median",
    "r_percent",
    "r_quantile7",
    "r_sd",
    "r_sd_along",
    "timed_series",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def glucose_values(glucose: npt.ArrayLike) -> FloatArray:
    """Glucose (mg/dL) as a flat float array without its missing (NaN) readings."""
    g = np.asarray(glucose, dtype=np.float64).ravel()
    out: FloatArray = g[~np.isnan(g)]
    return out


def timed_series(times_ms: npt.ArrayLike, glucose: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """Times (epoch ms) and glucose (mg/dL) as flat arrays, in the caller's order, NaN kept.

    Raises
    ------
    ValueError
        The two arrays differ in length.
    """
    t = np.asarray(times_ms, dtype=np.int64).ravel()
    g = np.asarray(glucose, dtype=np.float64).ravel()
    if t.shape != g.shape:
        raise ValueError(f"times_ms and glucose differ in length: {t.size} != {g.size}")
    return t, g


def r_mean(x: FloatArray) -> float:
    """``mean(x)``; NaN for no values, as R's ``mean(numeric(0))``."""
    return float(np.mean(x)) if x.size else math.nan


def r_percent(selected: BoolArray) -> float:
    """``mean(selected) * 100``, the percentage of readings a condition holds for (``selected``
    being its mask over the non-missing readings); NaN for no readings, as R's mean."""
    return float(np.mean(selected) * 100) if selected.size else math.nan


def r_sd(x: FloatArray) -> float:
    """``sd(x)``: the sample standard deviation (``n - 1``); NA (NaN) below two values."""
    return float(np.std(x, ddof=1)) if x.size >= 2 else math.nan


def r_quantile7(x: FloatArray, probs: npt.ArrayLike) -> FloatArray:
    """``quantile(x, probs, type = 7)``; all NaN for no values.

    R's own arithmetic: with ``h = 1 + (n - 1)·p``, ``lo = floor(h)``, the quantile is
    ``x[lo]`` when ``h`` is whole or both neighbours are equal, else
    ``(1 - (h - lo))·x[lo] + (h - lo)·x[lo + 1]`` (1-based on the sorted values). numpy's
    ``linear`` method is the same definition but rounds differently in the last bit.
    """
    p = np.asarray(probs, dtype=np.float64).ravel()
    if x.size == 0:
        return np.full(p.size, np.nan)
    s = np.sort(x)
    index = (s.size - 1) * p  # 0-based h - 1
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    q = s[lo].copy()
    blend = (index > lo) & (s[hi] != q)
    h = (index - lo)[blend]
    q[blend] = (1 - h) * q[blend] + h * s[hi[blend]]
    return q


def r_median(x: FloatArray) -> float:
    """``median(x)``; NA (NaN) for no values."""
    return float(np.median(x)) if x.size else math.nan


def r_label(value: float) -> str:
    """A number as R's ``paste0`` writes it into a column name: ``140`` not ``140.0``.

    R prints up to 15 significant digits; whole numbers below 1e5 have no decimal point
    (thresholds in mg/dL and percentiles always are in that range).
    """
    v = float(value)
    if v.is_integer() and abs(v) < 1e5:
        return str(int(v))
    return format(v, ".15g")


def r_mean_along(x: npt.ArrayLike, axis: int | None = None) -> FloatArray:
    """``mean(x, na.rm = TRUE)`` of the finite values along ``axis``; NaN where there is none."""
    a = np.asarray(x, dtype=np.float64)
    present = np.isfinite(a)
    count = present.sum(axis=axis)
    total = np.where(present, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.asarray(np.where(count > 0, total / count, np.nan))
    return out


def r_sd_along(x: npt.ArrayLike, axis: int | None = None) -> FloatArray:
    """``sd(x, na.rm = TRUE)`` (n - 1) of the finite values along ``axis``; NaN where fewer
    than two. Two passes (mean, then squared deviations), as R's ``var``."""
    a = np.asarray(x, dtype=np.float64)
    present = np.isfinite(a)
    count = present.sum(axis=axis)
    centre = r_mean_along(a, axis)
    if axis is not None:
        centre = np.expand_dims(centre, axis)
    squares = np.where(present, (a - centre) ** 2, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.asarray(np.where(count > 1, np.sqrt(squares / (count - 1)), np.nan))
    return out
