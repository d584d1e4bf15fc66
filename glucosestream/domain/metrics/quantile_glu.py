"""Quantiles of glucose."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_label, r_quantile7

__all__ = ["quantile_glu"]


def quantile_glu(
    glucose: npt.ArrayLike, quantiles: Sequence[float] = (0, 25, 50, 75, 100)
) -> dict[str, float]:
    """Glucose quantiles of one patient's readings, as iglu 4.3.0 ``quantile_glu``.

    R's default (type 7) quantile at each ``p = q / 100``: with the ``n`` sorted readings
    ``x_1 ≤ … ≤ x_n``, ``h = 1 + (n - 1)·p`` and ``Q(p) = x_⌊h⌋ + (h - ⌊h⌋)·(x_⌊h⌋+1 - x_⌊h⌋)``
    (linear interpolation between order statistics; 0 is the minimum, 100 the maximum).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    quantiles
        Percentiles in [0, 100] (default 0, 25, 50, 75, 100, iglu's default).

    Returns
    -------
    dict[str, float]
        ``{"0": …, "25": …, "50": …, "75": …, "100": …}`` in mg/dL, keyed by the percentile
        as R names the column; NaN for no readings.

    Notes
    -----
    R iglu 4.3.0, ``R/quantile_glu.R``: ``quantile(gl, probs = quantiles / 100)``.

    References
    ----------
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE
    16(4):e0248560, doi:10.1371/journal.pone.0248560.
    Hyndman & Fan (1996) "Sample quantiles in statistical packages", Am Stat 50(4):361-365,
    doi:10.2307/2684934 (definition 7).
    """
    q = [float(p) for p in quantiles]
    values = r_quantile7(glucose_values(glucose), np.array(q) / 100)
    return {r_label(p): float(v) for p, v in zip(q, values, strict=True)}
