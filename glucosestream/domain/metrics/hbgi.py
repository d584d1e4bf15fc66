"""HBGI: high blood glucose index."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics.lbgi import _blood_glucose_index

__all__ = ["hbgi"]


def hbgi(glucose: npt.ArrayLike) -> dict[str, float]:
    """High blood glucose index of one patient, as iglu 4.3.0 ``hbgi``.

    With Kovatchev's symmetrised scale ``f(g) = ln(g)^1.084 - 5.381`` (g in mg/dL; ``f > 0``
    above about 112.5 mg/dL)::

        HBGI = 22.77 · Σ_{g_i ≥ 112.5} max(f(g_i), 0)² / n

    over the ``n`` non-missing readings (readings below 112.5 count in ``n`` only).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"HBGI": …}`` (unitless risk, ≥ 0); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/hbgi.R``; scale factor 22.77 as in
    :func:`~glucosestream.domain.metrics.lbgi.lbgi`.

    References
    ----------
    Kovatchev et al. (2006) "Evaluation of a new measure of blood glucose variability in
    diabetes", Diabetes Care 29(11):2433-2438, doi:10.2337/dc06-1085; Kovatchev et al. (1997)
    "Symmetrization of the blood glucose measurement scale and its applications", Diabetes
    Care 20(11):1655-1658, doi:10.2337/diacare.20.11.1655.
    """
    return {"HBGI": _blood_glucose_index(glucose, "high")}
