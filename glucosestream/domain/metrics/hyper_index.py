"""Hyperglycaemia index."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics.hypo_index import _rodbard_index

__all__ = ["hyper_index"]


def hyper_index(
    glucose: npt.ArrayLike, ultr: float = 140, a: float = 1.1, c: float = 30
) -> dict[str, float]:
    """Hyperglycaemia index of one patient, as iglu 4.3.0 ``hyper_index``.

    ``hyper_index = Σ_{g_i > ULTR} (g_i - ULTR)^a / (n · c)`` over the ``n`` non-missing
    readings, g in mg/dL.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    ultr
        Upper limit of the target range, mg/dL (R's ``ULTR``, default 140).
    a
        Exponent (default 1.1).
    c
        Scaling constant (default 30).

    Returns
    -------
    dict[str, float]
        ``{"hyper_index": …}`` (unitless, ≥ 0); NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/hyper_index.R``.

    References
    ----------
    Rodbard (2009) "Interpretation of continuous glucose monitoring data: glycemic variability
    and quality of glycemic control", Diabetes Technol Ther 11(S1):S55-S67,
    doi:10.1089/dia.2008.0132.
    """
    return {"hyper_index": _rodbard_index(glucose, lambda g: g[g > ultr] - ultr, a, c)}
