"""Hypoglycaemia index."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import FloatArray, glucose_values

__all__ = ["hypo_index"]


def hypo_index(
    glucose: npt.ArrayLike, lltr: float = 80, b: float = 2, d: float = 30
) -> dict[str, float]:
    """Hypoglycaemia index of one patient, as iglu 4.3.0 ``hypo_index``.

    ``hypo_index = Σ_{g_i < LLTR} (LLTR - g_i)^b / (n · d)`` over the ``n`` non-missing
    readings, g in mg/dL.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    lltr
        Lower limit of the target range, mg/dL (R's ``LLTR``, default 80).
    b
        Exponent (default 2).
    d
        Scaling constant (default 30).

    Returns
    -------
    dict[str, float]
        ``{"hypo_index": …}`` (unitless, ≥ 0); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/hypo_index.R``.

    References
    ----------
    Rodbard (2009) "Interpretation of continuous glucose monitoring data: glycemic variability
    and quality of glycemic control", Diabetes Technol Ther 11(S1):S55-S67,
    doi:10.1089/dia.2008.0132.
    """
    return {"hypo_index": _rodbard_index(glucose, lambda g: lltr - g[g < lltr], b, d)}


def _rodbard_index(
    glucose: npt.ArrayLike,
    distance: Callable[[FloatArray], FloatArray],
    power: float,
    scale: float,
) -> float:
    """``Σ distance(g)^power / (n · scale)`` over the ``n`` non-missing readings (NaN for none):
    the shared body of ``hypo_index`` and ``hyper_index``, ``distance`` giving each reading's
    distance (mg/dL) beyond the target range, only for the readings beyond it."""
    g = glucose_values(glucose)
    if g.size == 0:
        return math.nan
    return float(np.sum(distance(g) ** power) / (g.size * scale))
