"""ADRR: average daily risk range."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import timed_series
from glucosestream.domain.metrics.grid import MS_PER_DAY
from glucosestream.domain.metrics.lbgi import _kovatchev_scale

__all__ = ["adrr"]


def adrr(times_ms: npt.ArrayLike, glucose: npt.ArrayLike) -> dict[str, float]:
    """Average daily risk range of one patient, as iglu 4.3.0 ``adrr``.

    With Kovatchev's scale ``f(g) = ln(g)^1.084 - 5.381`` (g in mg/dL), for each local
    calendar day ``d`` that has readings::

        LR_d = 22.77 · min(min_i f(g_i), 0)²      HR_d = 22.77 · max(max_i f(g_i), 0)²
        ADRR = mean over days of (LR_d + HR_d)

    i.e. the day's largest hypoglycaemic risk plus its largest hyperglycaemic risk, averaged
    over days.

    Parameters
    ----------
    times_ms
        Reading instants as the patient's LOCAL wall-clock time, naive epoch ms; the day of a
        reading is ``floor(times_ms / 86_400_000)`` (R's ``as.Date(time, tz)``).
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first, so a day with only
        missing readings is no day).

    Returns
    -------
    dict[str, float]
        ``{"ADRR": …}`` (unitless risk, ≥ 0); NaN for no readings.

    Raises
    ------
    ValueError
        ``times_ms`` and ``glucose`` differ in length.

    Notes
    -----
    R iglu 4.3.0, ``R/adrr.R``. Every day weighs the same however many readings it has (a
    partial first or last day counts fully), and readings need not be sorted. R stops with an
    error when its whole data frame has exactly one row; that is a check on the input table,
    not part of the metric (a one-reading patient among others gets a value), so one reading
    gives its day's risk range here. Scale factor 22.77 as
    :func:`~glucosestream.domain.metrics.lbgi.lbgi`.

    References
    ----------
    Kovatchev et al. (2006) "Evaluation of a new measure of blood glucose variability in
    diabetes", Diabetes Care 29(11):2433-2438, doi:10.2337/dc06-1085.
    """
    t, g = timed_series(times_ms, glucose)
    present = ~np.isnan(g)
    t, g = t[present], g[present]
    if g.size == 0:
        return {"ADRR": math.nan}
    f = _kovatchev_scale(g)
    _, day = np.unique(t // MS_PER_DAY, return_inverse=True)
    n_days = int(day.max()) + 1
    # R's max()/min() without na.rm: an undefined reading makes its day (and ADRR) NaN.
    highest = np.full(n_days, -np.inf)
    lowest = np.full(n_days, np.inf)
    np.maximum.at(highest, day, f)
    np.minimum.at(lowest, day, f)
    risk = 22.77 * np.maximum(highest, 0) ** 2 + 22.77 * np.minimum(lowest, 0) ** 2
    return {"ADRR": float(np.mean(risk))}
