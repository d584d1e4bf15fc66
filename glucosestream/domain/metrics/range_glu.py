"""Range of glucose."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values

__all__ = ["range_glu"]


def range_glu(glucose: npt.ArrayLike) -> dict[str, float]:
    """Range of one patient's readings, as iglu 4.3.0 ``range_glu``.

    ``range = max g_i - min g_i`` over the non-missing readings.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"range": …}`` in mg/dL; 0 for one reading, NaN for none.

    Notes
    -----
    R iglu 4.3.0, ``R/range_glu.R``: ``max(gl) - min(gl)`` after dropping NA. R drops a
    patient without readings from its output; here that is NaN.

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    """
    g = glucose_values(glucose)
    return {"range": float(np.max(g) - np.min(g)) if g.size else math.nan}
