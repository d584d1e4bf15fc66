"""Standard deviation of glucose."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_sd

__all__ = ["sd_glu"]


def sd_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """Sample standard deviation of one patient's readings, as iglu 4.3.0 ``sd_glu``.

    ``SD = sqrt(Σ (g_i - mean)² / (n - 1))`` over the ``n`` non-missing readings (R's
    ``sd``, denominator ``n - 1``).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"SD": …}`` in mg/dL; NaN for fewer than two readings (R's NA).

    Notes
    -----
    R iglu 4.3.0, ``R/sd_glu.R``: ``sd(gl, na.rm = TRUE)``.

    References
    ----------
    Rodbard (2009) "Interpretation of continuous glucose monitoring data: glycemic variability
    and quality of glycemic control", Diabetes Technol Ther 11(S1):S55-S67,
    doi:10.1089/dia.2008.0132.
    """
    return {"SD": r_sd(glucose_values(glucose))}
