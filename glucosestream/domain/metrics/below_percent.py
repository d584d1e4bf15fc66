"""Percentage of readings below glucose thresholds (time below range)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_label, r_percent

__all__ = ["below_percent"]


def below_percent(
    glucose: npt.ArrayLike, targets_below: Sequence[float] = (54, 70)
) -> dict[str, float]:
    """Percentage of readings strictly below each target, as iglu 4.3.0 ``below_percent``.

    ``below_T = 100 · #{g_i < T} / n`` with ``n`` the number of non-missing readings.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    targets_below
        Thresholds in mg/dL (default 54, 70, iglu's default: level 2 and level 1 hypoglycaemia).

    Returns
    -------
    dict[str, float]
        ``{"below_54": …, "below_70": …}``, percent of readings; NaN for no readings. Keys in
        the sorted order of R's ``tidyr::spread``.

    Notes
    -----
    R iglu 4.3.0, ``R/below_percent.R``: ``mean(gl < target, na.rm = TRUE) * 100``.

    References
    ----------
    Battelino et al. (2019) "Clinical targets for continuous glucose monitoring data
    interpretation: recommendations from the international consensus on time in range",
    Diabetes Care 42(8):1593-1603, doi:10.2337/dci19-0028; Rodbard (2009), Diabetes Technol
    Ther 11(S1):S55-S67, doi:10.1089/dia.2008.0132.
    """
    g = glucose_values(glucose)
    out = {f"below_{r_label(t)}": r_percent(g < float(t)) for t in targets_below}
    return dict(sorted(out.items()))
