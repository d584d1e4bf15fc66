"""GMI: glucose management indicator."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean

__all__ = ["gmi"]


def gmi(glucose: npt.ArrayLike) -> dict[str, float]:
    """Glucose management indicator of one patient, as iglu 4.3.0 ``gmi``.

    ``GMI = 3.31 + 0.02392 · mean`` with the mean glucose in mg/dL.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"GMI": …}``, an estimated HbA1c in percent (NGSP); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/gmi.R``: ``3.31 + .02392 * mean(gl, na.rm = TRUE)``. The regression was
    fitted on at least 10-14 days of CGM; it is computed for any span here, as in iglu.

    References
    ----------
    Bergenstal et al. (2018) "Glucose Management Indicator (GMI): a new term for estimating A1C
    from continuous glucose monitoring", Diabetes Care 41(11):2275-2280, doi:10.2337/dc18-1581.
    """
    return {"GMI": 3.31 + 0.02392 * r_mean(glucose_values(glucose))}
