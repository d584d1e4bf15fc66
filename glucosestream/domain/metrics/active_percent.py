"""Percentage of expected CGM readings that are present."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import timed_series
from glucosestream.domain.metrics.grid import MS_PER_DAY, MS_PER_MINUTE

__all__ = ["active_percent", "active_percent_outputs"]


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
    t, g = timed_series(times_ms, glucose)
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


def active_percent_outputs(
    times_ms: npt.ArrayLike, glucose: npt.ArrayLike, dt0: int | None = None
) -> dict[str, float]:
    """All four outputs of R iglu 4.3.0 ``active_percent`` (R/active_percent.R) for one patient.

    * ``active_percent``: :func:`active_percent` (%).
    * ``ndays``: ``(last - first) / 1 day`` rounded to one decimal (days, a float), first and
      last being the first and last reading with glucose present; R's
      ``round(difftime(maxtime, mintime, units = "days"), 1)``.
    * ``start_date``, ``end_date``: those first and last reading instants, in the unit and
      convention of ``times_ms`` (naive local wall-clock epoch milliseconds, as a float holding
      a whole number). R returns them as POSIXct date-times in the session time zone; the same
      wall-clock instant is ``datetime(1970, 1, 1) + timedelta(milliseconds=start_date)``.

    Parameters
    ----------
    times_ms
        Reading instants, naive local wall-clock epoch ms.
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first, as R does).
    dt0
        Expected sampling interval in minutes, as :func:`active_percent`.

    Returns
    -------
    dict
        ``{"active_percent", "ndays", "start_date", "end_date"}``; all NaN without a reading.
        One reading: ``active_percent`` NaN (R: NA, no interval for dt0), ``ndays`` 0 and both
        dates that reading.

    Notes
    -----
    Python's ``round(x, 1)`` rounds the exact binary value (ties to even), which is what R ≥ 4.0
    does for ``round(x, 1)``. R's loop over subjects keeps the first subject's estimated dt0
    for the later ones; per patient here, each uses its own (R's value for one subject).
    """
    t, g = timed_series(times_ms, glucose)
    t = t[np.isfinite(g)]
    if t.size == 0:
        return dict.fromkeys(("active_percent", "ndays", "start_date", "end_date"), math.nan)
    first, last = int(t.min()), int(t.max())
    return {
        "active_percent": active_percent(times_ms, glucose, dt0),
        "ndays": round((last - first) / MS_PER_DAY, 1),
        "start_date": float(first),
        "end_date": float(last),
    }
