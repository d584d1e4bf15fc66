"""IGC: index of glycaemic control."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics.hyper_index import hyper_index
from glucosestream.domain.metrics.hypo_index import hypo_index

__all__ = ["igc"]


def igc(
    glucose: npt.ArrayLike,
    lltr: float = 80,
    ultr: float = 140,
    a: float = 1.1,
    b: float = 2,
    c: float = 30,
    d: float = 30,
) -> dict[str, float]:
    """Index of glycaemic control of one patient, as iglu 4.3.0 ``igc``.

    ``IGC = hyper_index + hypo_index``::

        hyper_index = Σ_{g_i > ULTR} (g_i - ULTR)^a / (n · c)
        hypo_index  = Σ_{g_i < LLTR} (LLTR - g_i)^b / (n · d)

    over the ``n`` non-missing readings, g in mg/dL.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    lltr, ultr
        Lower and upper limits of the target range, mg/dL (R's ``LLTR`` = 80, ``ULTR`` = 140).
    a, b
        Exponents of the hyper- and hypoglycaemia terms (default 1.1 and 2).
    c, d
        Their scaling constants (default 30 and 30).

    Returns
    -------
    dict[str, float]
        ``{"IGC": …}`` (unitless, ≥ 0); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/igc.R``.

    References
    ----------
    Rodbard (2009) "Interpretation of continuous glucose monitoring data: glycemic variability
    and quality of glycemic control", Diabetes Technol Ther 11(S1):S55-S67,
    doi:10.1089/dia.2008.0132.
    """
    hyper = hyper_index(glucose, ultr=ultr, a=a, c=c)["hyper_index"]
    hypo = hypo_index(glucose, lltr=lltr, b=b, d=d)["hypo_index"]
    return {"IGC": hyper + hypo}
