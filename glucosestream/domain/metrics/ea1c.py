"""eA1C: estimated HbA1c from mean glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean

__all__ = ["ea1c"]


def ea1c(glucose: npt.ArrayLike) -> dict[str, float]:
    """Estimated A1C of one patient, as iglu 4.3.0 ``ea1c``.

    ``eA1C = (46.7 + mean) / 28.7`` with the mean glucose in mg/dL (the ADAG regression
    ``mean = 28.7 · A1C - 46.7`` solved for A1C).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"eA1C": …}`` in percent (NGSP); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/ea1c.R``: ``(46.7 + mean(gl, na.rm = TRUE)) / 28.7``.

    References
    ----------
    Nathan et al. (2008) "Translating the A1C assay into estimated average glucose values",
    Diabetes Care 31(8):1473-1478, doi:10.2337/dc08-0545.
    """
    return {"eA1C": (46.7 + r_mean(glucose_values(glucose))) / 28.7}
