"""Percentage of expected CGM readings that are present."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics.grid import MS_PER_MINUTE

__all__ = ["active_percent"]


def active_percent(
    times_ms: npt.ArrayLike, glucose: npt.ArrayLike, dt0: int | None = None
) -> float:
    """Percentage of time the CGM was active, as iglu 4.3.0 ``active_percent`` (automatic range).

    With ``Δ_i`` the intervals (minutes) between consecutive readings::

        expected = round(round(last - first) / dt0) + 1
        missing  = round((Σ_{round(Δ_i) > dt0} Δ_i  -  k · dt0) / dt0),  k = #{round(Δ_i) > dt0}
        active_percent = 100 · (expected - missing) / expected

    An interval counts as a gap only when it exceeds ``dt0`` after rounding to whole minutes,
    which is iglu's tolerance for clock jitter; each gap contributes its length beyond one
    sampling interval.

    Parameters
    ----------
    times_ms
        Reading instants, epoch ms. Only differences matter: local or UTC time both work, but
        keep one convention per series.
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped before anything else).
    dt0
        Expected sampling interval in minutes; ``None`` (default) = the median interval rounded
        half to even, as iglu.

    Returns
    -------
    float
        Percentage in [0, 100]; NaN for no readings, for one reading without ``dt0``, or for
        ``dt0 < 1``.

    Notes
    -----
    No interpolation grid is built; the window is first … last reading ("automatic" range).
    Readings are sorted but duplicates are kept, as iglu's ``active_percent`` does (an
    interval of 0 is no gap). The iglu-python port counts an interval as a gap when it
    exceeds ``dt0`` without rounding and skips the inner rounding of the span, so jittered
    data lose a few percent there; we follow R.

    References
    ----------
    Danne et al. (2017) "International consensus on use of continuous glucose monitoring",
    Diabetes Care 40:1631-1640, doi:10.2337/dc17-1600; data sufficiency per Battelino et al.
    (2019), Diabetes Care 42:1593-1603, doi:10.2337/dci19-0028.
    """
    t = np.asarray(times_ms, dtype=np.int64).ravel()
    g = np.asarray(glucose, dtype=np.float64).ravel()
    if t.shape != g.shape:
        raise ValueError(f"times_ms and glucose differ in length: {t.size} != {g.size}")
    t = np.sort(t[np.isfinite(g)])
    if t.size == 0:
        return math.nan
    gaps = np.diff(t) / MS_PER_MINUTE
    if dt0 is None:
        if gaps.size == 0:
            return math.nan
        dt0 = int(np.round(np.median(gaps)))
    if dt0 < 1:
        return math.nan
    span = (t[-1] - t[0]) / MS_PER_MINUTE
    expected = np.round(np.round(span) / dt0) + 1
    is_gap = np.round(gaps) > dt0
    missing = np.round((gaps[is_gap].sum() - is_gap.sum() * dt0) / dt0)
    return float(100 * (expected - missing) / expected)
