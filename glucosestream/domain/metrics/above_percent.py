"""Percentage of readings above glucose thresholds (time above range)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_label, r_percent

__all__ = ["above_percent"]


def above_percent(
    glucose: npt.ArrayLike, targets_above: Sequence[float] = (140, 180, 250)
) -> dict[str, float]:
    """Percentage of readings strictly above each target, as iglu 4.3.0 ``above_percent``.

    ``above_T = 100 · #{g_i > T} / n`` with ``n`` the number of non-missing readings.

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).
    targets_above
        Thresholds in mg/dL (default 140, 180, 250, iglu's default).

    Returns
    -------
    dict[str, float]
        ``{"above_140": …, "above_180": …, "above_250": …}``, percent of readings (not of
        time: every reading weighs the same whatever the interval to the next); NaN for no
        readings. Keys in the sorted order of R's ``tidyr::spread``.

    Notes
    -----
    R iglu 4.3.0, ``R/above_percent.R``: ``mean(gl > target, na.rm = TRUE) * 100``.

    References
    ----------
    Battelino et al. (2019) "Clinical targets for continuous glucose monitoring data
    interpretation: recommendations from the international consensus on time in range",
    Diabetes Care 42(8):1593-1603, doi:10.2337/dci19-0028; Rodbard (2009) "Interpretation of
    continuous glucose monitoring data: glycemic variability and quality of glycemic control",
    Diabetes Technol Ther 11(S1):S55-S67, doi:10.1089/dia.2008.0132.
    """
    g = glucose_values(glucose)
    out = {f"above_{r_label(t)}": r_percent(g > float(t)) for t in targets_above}
    return dict(sorted(out.items()))
