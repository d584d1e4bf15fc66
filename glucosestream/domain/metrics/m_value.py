"""M-value of Schlichtkrull."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean

__all__ = ["m_value"]


def m_value(glucose: npt.ArrayLike, r: float = 90) -> dict[str, float]:
    """M-value of one patient, as iglu 4.3.0 ``m_value``.

    ``M = mean(1000 · |log10(g_i / r)|³)`` over the non-missing readings, g in mg/dL.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    r
        Reference ("ideal") glucose in mg/dL (default 90, iglu's default).

    Returns
    -------
    dict[str, float]
        ``{"M_value": …}`` (unitless, ≥ 0); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/m_value.R``: the mean of the per-reading term only. Schlichtkrull's
    original M adds a correction ``(max - min) / 20`` for fewer than 24 readings a day; iglu
    omits it and so do we.

    References
    ----------
    Schlichtkrull, Munck & Jersild (1965) "The M-value, an index of blood-sugar control in
    diabetics", Acta Med Scand 177(1):95-102, doi:10.1111/j.0954-6820.1965.tb01810.x.
    """
    g = glucose_values(glucose)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = 1000 * np.abs(np.log10(g / r)) ** 3
    # R's na.rm: an undefined term (glucose or r not positive) drops out of the mean.
    return {"M_value": r_mean(terms[~np.isnan(terms)])}
