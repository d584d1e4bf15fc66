"""Percentage of readings within glucose ranges (time in range)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_label, r_percent

__all__ = ["in_range_percent"]


def in_range_percent(
    glucose: npt.ArrayLike,
    target_ranges: Sequence[Sequence[float]] = ((70, 180), (63, 140)),
) -> dict[str, float]:
    """Percentage of readings inside each closed range, as iglu 4.3.0 ``in_range_percent``.

    ``in_range_L_U = 100 · #{L ≤ g_i ≤ U} / n`` with ``n`` the number of non-missing
    readings; both ends count as in range.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    target_ranges
        Ranges in mg/dL, each given by its two ends in any order (default 70-180 and 63-140,
        iglu's default).

    Returns
    -------
    dict[str, float]
        ``{"in_range_63_140": …, "in_range_70_180": …}``, percent of readings; NaN for no
        readings. Keys in the sorted order of R's ``tidyr::spread``.

    Notes
    -----
    R iglu 4.3.0, ``R/in_range_percent.R``: the ends are ``range(target)`` (lowest, highest)
    and the share is ``mean(gl >= lo & gl <= hi, na.rm = TRUE) * 100``.

    References
    ----------
    Battelino et al. (2019) "Clinical targets for continuous glucose monitoring data
    interpretation: recommendations from the international consensus on time in range",
    Diabetes Care 42(8):1593-1603, doi:10.2337/dci19-0028; Rodbard (2009), Diabetes Technol
    Ther 11(S1):S55-S67, doi:10.1089/dia.2008.0132.
    """
    g = glucose_values(glucose)
    out: dict[str, float] = {}
    for ends in target_ranges:
        lo, hi = float(min(ends)), float(max(ends))
        out[f"in_range_{r_label(lo)}_{r_label(hi)}"] = r_percent((g >= lo) & (g <= hi))
    return dict(sorted(out.items()))
