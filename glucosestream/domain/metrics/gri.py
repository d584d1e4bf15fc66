"""GRI: glycaemia risk index."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import FloatArray, IntArray, r_percent, timed_series

__all__ = ["gri"]


def _average_repeated_instants(t: IntArray, g: FloatArray) -> FloatArray:
    """iglu's ``check_data_time``: a run of consecutive readings at the same instant becomes
    one reading, the mean of its non-missing values (NaN if it has none)."""
    if t.size == 0:
        return g
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    present = ~np.isnan(g)
    sums = np.add.reduceat(np.where(present, g, 0.0), starts)
    counts = np.add.reduceat(present.astype(np.int64), starts)
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out


def gri(times_ms: npt.ArrayLike, glucose: npt.ArrayLike) -> dict[str, float]:
    """Glycaemia risk index of one patient, as iglu 4.3.0 ``gri``.

    With the percentages of readings below 54, below 70, above 180 and above 250 mg/dL::

        GRI = min(3.0 · VLow + 2.4 · Low + 1.6 · VHigh + 0.8 · High, 100)
        VLow = %<54   Low = %<70 - %<54   VHigh = %>250   High = %>180 - %>250

    Parameters
    ----------
    times_ms
        Reading instants, naive epoch ms (local or UTC; only equality of consecutive instants
        matters, see Notes).
    glucose
        Glucose, mg/dL (NaN = missing).

    Returns
    -------
    dict[str, float]
        ``{"GRI": …}`` on a 0-100 scale; NaN for no readings.

    Raises
    ------
    ValueError
        ``times_ms`` and ``glucose`` differ in length.

    Notes
    -----
    R iglu 4.3.0, ``R/gri.R`` (percentages from ``agp_metrics``, i.e. ``below_percent`` /
    ``above_percent``: shares of readings, thresholds excluded). Unlike those functions,
    ``gri`` validates times first (``check_data_columns(time_check = TRUE)``), which replaces
    each run of consecutive readings with the same instant by one reading, their mean ignoring
    missing values. This is why ``gri`` takes the times: duplicated instants weigh once here,
    once per reading in ``below_percent``. As R, runs are taken in the order given (for sorted
    input: all readings at one instant), before missing readings are dropped.

    References
    ----------
    Klonoff et al. (2023) "A Glycemia Risk Index (GRI) of hypoglycemia and hyperglycemia for
    continuous glucose monitoring validated by clinician ratings", J Diabetes Sci Technol
    17(5):1226-1242, doi:10.1177/19322968221085273.
    """
    t, g = timed_series(times_ms, glucose)
    g = _average_repeated_instants(t, g)
    g = g[~np.isnan(g)]
    if g.size == 0:
        return {"GRI": math.nan}
    below_54, below_70 = r_percent(g < 54), r_percent(g < 70)
    above_180, above_250 = r_percent(g > 180), r_percent(g > 250)
    score = (
        3 * below_54 + 2.4 * (below_70 - below_54) + 1.6 * above_250 + 0.8 * (above_180 - above_250)
    )
    return {"GRI": min(score, 100.0)}
