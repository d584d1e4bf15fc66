"""Share of the GRADE score due to hyperglycaemia."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics.grade import _grade_share

__all__ = ["grade_hyper"]


def grade_hyper(glucose: npt.ArrayLike, upper: float = 140) -> dict[str, float]:
    """Share of the GRADE score from readings above ``upper``, as iglu 4.3.0 ``grade_hyper``.

    ``GRADE_hyper = 100 · Σ_{selected} GRADE(g_i) / Σ_all GRADE(g_i)`` with the per-reading
    score of :func:`~glucosestream.domain.metrics.grade.grade`
    (``min(425 · (log10(log10(g / 18)) + 0.16)², 50)``, g in mg/dL).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    upper
        Hyperglycaemia threshold, mg/dL, excluded (default 140, iglu's default).

    Returns
    -------
    dict[str, float]
        ``{"GRADE_hyper": …}`` in percent of the total score; NaN for no readings (0 / 0).

    Notes
    -----
    R iglu 4.3.0, ``R/grade_hyper.R``: ``sum(grade[gl > upper], na.rm = TRUE) /
    sum(grade, na.rm = TRUE) * 100``; readings below 18 mg/dL have no score and drop out of
    both sums. The three shares (hypo < 80, eugly 70-140, hyper > 140 at the defaults) need
    not add up to 100: iglu's default ranges overlap on 70-80 mg/dL.

    References
    ----------
    Hill et al. (2007) "A method for assessing quality of control from glucose profiles",
    Diabetic Med 24(7):753-758, doi:10.1111/j.1464-5491.2007.02119.x.
    """
    return {"GRADE_hyper": _grade_share(glucose, lambda g: g > upper)}
