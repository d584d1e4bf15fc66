"""J-index."""

from __future__ import annotations

import numpy.typing as npt

from glucosestream.domain.metrics._rstats import glucose_values, r_mean, r_sd

__all__ = ["j_index"]


def j_index(glucose: npt.ArrayLike) -> dict[str, float]:
    """J-index of one patient, as iglu 4.3.0 ``j_index``.

    ``J = 0.001 · (mean + SD)²`` with glucose in mg/dL and the sample standard deviation
    (``n - 1``).

    Parameters
    ----------
    glucose
        Glucose, mg/dL (NaN = missing; such readings are dropped first).

    Returns
    -------
    dict[str, float]
        ``{"J_index": …}`` in (mg/dL)² / 1000; NaN for fewer than two readings (R's NA, the SD
        being undefined).

    Notes
    -----
    R iglu 4.3.0, ``R/j_index.R``.

    References
    ----------
    Wojcicki (1995) "'J'-index. A new proposition of the assessment of current glucose control
    in diabetic patients", Horm Metab Res 27(1):41-42, doi:10.1055/s-2007-979906.
    """
    g = glucose_values(glucose)
    return {"J_index": 0.001 * (r_mean(g) + r_sd(g)) ** 2}
