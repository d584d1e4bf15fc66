"""LBGI: low blood glucose index."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import FloatArray, glucose_values

__all__ = ["lbgi"]


def lbgi(glucose: npt.ArrayLike) -> dict[str, float]:
    """Low blood glucose index of one patient, as iglu 4.3.0 ``lbgi``.

    With Kovatchev's symmetrised scale ``f(g) = ln(g)^1.084 - 5.381`` (g in mg/dL; ``f < 0``
    below about 112.5 mg/dL)::

        LBGI = 22.77 · Σ_{g_i < 112.5} min(f(g_i), 0)² / n

    over the ``n`` non-missing readings (readings at or above 112.5 count in ``n`` only).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"LBGI": …}`` (unitless risk, ≥ 0); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/lbgi.R``. The factor 22.77 is Kovatchev's risk ``10 · (1.509 · f)²``
    with 10 · 1.509² = 22.77081 rounded to two decimals, as R has it (R iglu 4.3.0 uses 22.77
    in ``lbgi``, ``hbgi`` and ``adrr``). A reading below 1 mg/dL has an undefined term, left
    out of the sum (R's ``na.rm``) but counted in ``n``.

    References
    ----------
    Kovatchev et al. (2006) "Evaluation of a new measure of blood glucose variability in
    diabetes", Diabetes Care 29(11):2433-2438, doi:10.2337/dc06-1085; Kovatchev et al. (1997)
    "Symmetrization of the blood glucose measurement scale and its applications", Diabetes
    Care 20(11):1655-1658, doi:10.2337/diacare.20.11.1655.
    """
    return {"LBGI": _blood_glucose_index(glucose, "low")}


def _kovatchev_scale(g: FloatArray) -> FloatArray:
    """Kovatchev's symmetrised scale ``f(g) = ln(g)^1.084 - 5.381`` (g in mg/dL), as R computes
    it, for ``lbgi``, ``hbgi`` and ``adrr``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # R's (-Inf)^1.084 is NaN where C's pow gives +Inf: glucose 0 is undefined too.
        f: FloatArray = np.where(g > 0, np.log(g) ** 1.084 - 5.381, np.nan)
    return f


def _blood_glucose_index(glucose: npt.ArrayLike, side: Literal["low", "high"]) -> float:
    """``22.77 · Σ risk_i / n``: LBGI (``side="low"``, readings below 112.5 mg/dL, ``min(f, 0)²``)
    or HBGI (``"high"``, readings from 112.5, ``max(f, 0)²``) over the ``n`` non-missing
    readings; NaN for none."""
    g = glucose_values(glucose)
    if g.size == 0:
        return math.nan
    f = _kovatchev_scale(g)
    part = np.minimum(f, 0)[g < 112.5] if side == "low" else np.maximum(f, 0)[g >= 112.5]
    # R's na.rm: an undefined term (glucose below 1 mg/dL) is left out of the sum, not of n.
    return float(22.77 * np.nansum(part**2) / g.size)
