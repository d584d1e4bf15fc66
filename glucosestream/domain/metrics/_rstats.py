"""R's ``mean(x, na.rm = TRUE)`` and ``sd(x, na.rm = TRUE)`` for the iglu metrics.

numpy's ``nanmean``/``nanstd`` warn on all-NaN input and ``nanstd`` gives 0 or a division
warning for one value; R gives NaN (mean of nothing) and NA (sd of fewer than two values)
silently. iglu's metrics then drop those NaN in their next ``na.rm = TRUE`` step, so both are
NaN here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["r_mean", "r_sd"]

FloatArray = npt.NDArray[np.float64]


def r_mean(x: npt.ArrayLike, axis: int | None = None) -> FloatArray:
    """Mean of the finite values along ``axis``; NaN where there is none."""
    a = np.asarray(x, dtype=np.float64)
    present = np.isfinite(a)
    count = present.sum(axis=axis)
    total = np.where(present, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.asarray(np.where(count > 0, total / count, np.nan))
    return out


def r_sd(x: npt.ArrayLike, axis: int | None = None) -> FloatArray:
    """Sample standard deviation (n - 1) of the finite values along ``axis``; NaN where fewer
    than two. Two passes (mean, then squared deviations), as R's ``var``."""
    a = np.asarray(x, dtype=np.float64)
    present = np.isfinite(a)
    count = present.sum(axis=axis)
    centre = r_mean(a, axis)
    if axis is not None:
        centre = np.expand_dims(centre, axis)
    squares = np.where(present, (a - centre) ** 2, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.asarray(np.where(count > 1, np.sqrt(squares / (count - 1)), np.nan))
    return out
