"""COGI: continuous glucose monitoring index."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_sd

__all__ = ["cogi"]


def _rising(feature: float, lo: float, hi: float) -> float:
    """iglu's increasing ``weight_features``: 0 at or below ``lo``, linear, capped at 1."""
    return min(float(feature > lo) * (feature - lo) / (hi - lo), 1.0)


def _falling(feature: float, lo: float, hi: float) -> float:
    """iglu's decreasing ``weight_features``: 0 at or above ``hi``, linear, capped at 1."""
    return min(float(feature < hi) * (feature - hi) / (lo - hi), 1.0)


def cogi(
    glucose: npt.ArrayLike,
    targets: Sequence[float] = (70, 180),
    weights: Sequence[float] = (0.5, 0.35, 0.15),
) -> dict[str, float]:
    """Continuous glucose monitoring index of one patient, as iglu 4.3.0 ``cogi``.

    With TIR the percentage of readings in ``[lo, hi]`` (both included), TBR the percentage
    below ``lo`` and SD the sample standard deviation (mg/dL)::

        COGI = 100 · ( w1 · min(TIR / 100, 1)
                     + w2 · min(max(15 - TBR, 0) / 15, 1)
                     + w3 · min(max(108 - SD, 0) / 90, 1) )

    i.e. time in range scores linearly from 0 to 100 %, time below range from 15 % (0) down to
    0 % (full weight), SD from 108 mg/dL (0) down to 18 mg/dL (full weight).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    targets
        The target range's ends in mg/dL, any order (default 70 and 180).
    weights
        Weights of TIR, TBR and SD (default 0.5, 0.35, 0.15).

    Returns
    -------
    dict[str, float]
        ``{"COGI": …}`` in percent (0-100 with the default weights); NaN for fewer than two
        readings (R's NA, the SD being undefined).

    Notes
    -----
    R iglu 4.3.0, ``R/cogi.r``. TIR and TBR are shares of readings (R's ``in_range_percent``
    and ``below_percent``), not of time.

    References
    ----------
    Leelarathna et al. (2020) "Evaluating glucose control with a novel composite continuous
    glucose monitoring index", J Diabetes Sci Technol 14(2):277-284,
    doi:10.1177/1932296819838525.
    """
    g = glucose_values(glucose)
    sd = r_sd(g)
    if math.isnan(sd):
        return {"COGI": math.nan}
    lo, hi = sorted(float(t) for t in targets)
    tir = float(np.mean((g >= lo) & (g <= hi)) * 100)
    tbr = float(np.mean(g < lo) * 100)
    score = (
        _rising(tir, 0, 100) * weights[0]
        + _falling(tbr, 0, 15) * weights[1]
        + _falling(sd, 18, 108) * weights[2]
    )
    return {"COGI": score * 100}
