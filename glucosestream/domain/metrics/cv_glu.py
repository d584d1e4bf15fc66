"""Coefficient of variation of glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean, r_sd

__all__ = ["cv_glu"]


def cv_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """Coefficient of variation of one patient's readings, as iglu 4.3.0 ``cv_glu``.

    ``CV = 100 · SD / mean``, with the sample standard deviation (``n - 1``) and the mean of
    the non-missing readings.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"CV": …}`` in percent; NaN for fewer than two readings (R's NA).

    Notes
    -----
    R iglu 4.3.0, ``R/cv_glu.R``: ``sd(gl, na.rm = TRUE) / mean(gl, na.rm = TRUE) * 100``.

    References
    ----------
    Rodbard (2009) "Interpretation of continuous glucose monitoring data: glycemic variability
    and quality of glycemic control", Diabetes Technol Ther 11(S1):S55-S67,
    doi:10.1089/dia.2008.0132; Danne et al. (2017) "International consensus on use of continuous
    glucose monitoring", Diabetes Care 40(12):1631-1640, doi:10.2337/dc17-1600.
    """
    g = glucose_values(glucose)
    return {"CV": r_sd(g) / r_mean(g) * 100}
