"""Six-number summary of glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean, r_quantile7

__all__ = ["summary_glu"]


def summary_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """R's ``summary()`` of one patient's readings, as iglu 4.3.0 ``summary_glu``.

    Minimum, first quartile, median, mean, third quartile and maximum; the quartiles are R's
    type 7 quantiles (see :func:`~glucosestream.domain.metrics.quantile_glu.quantile_glu`).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"Min.": …, "1st Qu.": …, "Median": …, "Mean": …, "3rd Qu.": …, "Max.": …}`` in
        mg/dL; all NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/summary_glu.R``: ``summary(gl)`` on the non-missing readings. Since
    R 4.0.0 ``summary.default`` no longer rounds its values (``digits`` only affects
    printing), so nothing is rounded here either.

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    """
    g = glucose_values(glucose)
    lo, q1, med, q3, hi = (float(v) for v in r_quantile7(g, [0, 0.25, 0.5, 0.75, 1]))
    return {
        "Min.": lo,
        "1st Qu.": q1,
        "Median": med,
        "Mean": r_mean(g),
        "3rd Qu.": q3,
        "Max.": hi,
    }
