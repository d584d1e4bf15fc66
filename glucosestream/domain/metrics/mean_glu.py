"""Mean glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean

__all__ = ["mean_glu"]


def mean_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """Mean glucose of one patient's readings, as iglu 4.3.0 ``mean_glu``.

    ``mean = Σ g_i / n`` over the ``n`` non-missing readings (every reading weighs the
    same, whatever the interval to the next).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"mean": …}`` in mg/dL; NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/mean_glu.R``: ``mean(gl, na.rm = TRUE)``.

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    """
    return {"mean": r_mean(glucose_values(glucose))}
