"""Interquartile range of glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_quantile7

__all__ = ["iqr_glu"]


def iqr_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """Interquartile range of one patient's readings, as iglu 4.3.0 ``iqr_glu``.

    ``IQR = Q(0.75) - Q(0.25)`` with R's type 7 quantiles (see
    :func:`~glucosestream.domain.metrics.quantile_glu.quantile_glu`).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"IQR": …}`` in mg/dL; 0 for one reading, NaN for none.

    Notes
    -----
    R iglu 4.3.0, ``R/iqr_glu.R``: ``IQR(gl, na.rm = TRUE)``.

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    """
    q1, q3 = r_quantile7(glucose_values(glucose), [0.25, 0.75])
    return {"IQR": float(q3 - q1)}
