"""Median absolute deviation of glucose."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_median

__all__ = ["mad_glu"]


def mad_glu(glucose: npt.ArrayLike, constant: float = 1.4826) -> dict[str, float]:
    """Scaled median absolute deviation of one patient's readings, as iglu 4.3.0 ``mad_glu``.

    ``MAD = constant · median(|g_i - median(g)|)``, centred on the median.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    constant
        Scale factor (default 1.4826, R's ``mad`` default: makes MAD estimate the standard
        deviation of normally distributed data).

    Returns
    -------
    dict[str, float]
        ``{"MAD": …}`` in mg/dL; 0 for one reading, NaN for none.

    Notes
    -----
    R iglu 4.3.0, ``R/mad_glu.r``: ``mad(gl, constant = constant)`` (centre = median).

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    Hampel (1974) "The influence curve and its role in robust estimation", J Am Stat Assoc
    69(346):383-393, doi:10.1080/01621459.1974.10482962.
    """
    g = glucose_values(glucose)
    return {"MAD": constant * r_median(np.abs(g - r_median(g)))}
