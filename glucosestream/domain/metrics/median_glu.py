"""Median glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_median

__all__ = ["median_glu"]


def median_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """Median glucose of one patient's readings, as iglu 4.3.0 ``median_glu``.

    The middle reading after sorting; for an even count the mean of the two middle ones.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"median": …}`` in mg/dL; NaN for no readings (R's NA).

    Notes
    -----
    R iglu 4.3.0, ``R/median_glu.R``: ``median(gl, na.rm = TRUE)``.

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    """
    return {"median": r_median(glucose_values(glucose))}
