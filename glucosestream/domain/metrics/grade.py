"""GRADE: glycaemic risk assessment diabetes equation."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import BoolArray, FloatArray, glucose_values, r_mean

__all__ = ["grade", "grade_scores"]

GRADE_CAP = 50.0


def grade_scores(glucose: FloatArray) -> FloatArray:
    """Each reading's GRADE score, iglu 4.3.0's ``grade_formula`` (R/grade.R).

    ``min(425 · (log10(log10(g / 18)) + 0.16)², 50)``, g in mg/dL (g / 18 is mmol/L). NaN
    below 18 mg/dL (the inner logarithm is negative), 50 at exactly 18.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 425 * (np.log10(np.log10(glucose / 18)) + 0.16) ** 2
    out: FloatArray = np.where(score > GRADE_CAP, GRADE_CAP, score)
    return out


def grade(glucose: npt.ArrayLike) -> dict[str, float]:
    """Mean GRADE score of one patient, as iglu 4.3.0 ``grade``.

    Per reading ``GRADE(g) = min(425 · (log10(log10(g / 18)) + 0.16)², 50)`` (g in mg/dL,
    so g / 18 is mmol/L); the result is the mean over readings. The score is 0 at about
    88.5 mg/dL and grows in both directions, capped at 50 per reading.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"GRADE": …}`` (unitless, 0-50); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/grade.R``: ``mean(grade_formula(gl), na.rm = TRUE)``. A reading
    below 18 mg/dL has no score (NaN) and, through ``na.rm``, drops out of the mean.

    References
    ----------
    Hill et al. (2007) "A method for assessing quality of control from glucose profiles",
    Diabetic Med 24(7):753-758, doi:10.1111/j.1464-5491.2007.02119.x.
    """
    scores = grade_scores(glucose_values(glucose))
    return {"GRADE": r_mean(scores[~np.isnan(scores)])}


def _grade_share(glucose: npt.ArrayLike, selected: Callable[[FloatArray], BoolArray]) -> float:
    """Percent of the total GRADE score due to the ``selected`` readings (mg/dL → mask), the
    shared body of ``grade_hypo``, ``grade_eugly`` and ``grade_hyper``.

    R's ``sum(grade[selected], na.rm = TRUE) / sum(grade, na.rm = TRUE) * 100``: readings
    below 18 mg/dL have no score and drop out of both sums; NaN for no readings (0 / 0).
    """
    g = glucose_values(glucose)
    scores = grade_scores(g)
    total = np.nansum(scores)
    if g.size == 0 or total == 0:
        # R's 0 / 0; a positive part over a zero total cannot happen (scores are ≥ 0).
        return math.nan
    return float(np.nansum(scores[selected(g)]) / total * 100)
