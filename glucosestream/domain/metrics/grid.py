"""The day-by-day interpolation grid of iglu's ``CGMS2DayByDay``, shared by every grid metric."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from glucosestream.domain.metrics._rstats import FloatArray, IntArray, timed_series

__all__ = [
    "MINUTES_PER_DAY",
    "MS_PER_DAY",
    "MS_PER_MINUTE",
    "DayByDayGrid",
    "GridUndefined",
    "clean_series",
    "day_by_day",
    "grid_or_none",
]

MS_PER_MINUTE = 60_000
MINUTES_PER_DAY = 1440
MS_PER_DAY = MINUTES_PER_DAY * MS_PER_MINUTE


class GridUndefined(ValueError):
    """The series cannot be put on a grid (too few readings, or sampled too sparsely)."""


@dataclass(frozen=True, slots=True)
class DayByDayGrid:
    """Glucose interpolated onto a regular grid, one row per local calendar day.

    Attributes
    ----------
    values
        ``(n_days, points_per_day)`` mg/dL; NaN where no reading is within reach (before the
        first reading, after the last, and inside gaps longer than ``inter_gap``).
    dt0
        Grid step in minutes (divides 1440).
    day_starts_ms
        Local midnight (naive epoch ms) of each row. Column ``j`` of row ``d`` is the instant
        ``day_starts_ms[d] + (j + 1) * dt0`` minutes: as in iglu, a row runs from 00:00 + dt0 to
        the next midnight inclusive.
    first_reading_ms, last_reading_ms
        The first and last reading instants gridded (naive epoch ms), or None when unknown.
        They fix :attr:`iglu_n_days`, the row count of R's ``gd2d``.
    """

    values: FloatArray
    dt0: int
    day_starts_ms: IntArray
    first_reading_ms: int | None = None
    last_reading_ms: int | None = None

    @property
    def points_per_day(self) -> int:
        """Grid points in one row, ``1440 / dt0``."""
        return MINUTES_PER_DAY // self.dt0

    @property
    def flat(self) -> FloatArray:
        """The grid in time order (rows concatenated), as iglu's ``as.vector(t(gd2d))``."""
        return self.values.ravel()

    @property
    def iglu_n_days(self) -> int:
        """Rows of R iglu's ``gd2d``: ``ceiling(span_in_days + 1)``, the span being last minus
        first reading.

        That is :attr:`values`' row count, plus one when the last reading's time of day is later
        than the first's (R then appends a row that is all NaN, being after the last reading).
        Falls back to the row count when the reading span is unknown.
        """
        rows = int(self.values.shape[0])
        if self.first_reading_ms is None or self.last_reading_ms is None:
            return rows
        span_ms = self.last_reading_ms - self.first_reading_ms
        # Integer ceiling: exact where span / 1 day is a whole number.
        return max(rows, -(-span_ms // MS_PER_DAY) + 1)

    @property
    def iglu_flat(self) -> FloatArray:
        """:attr:`flat` padded with NaN to :attr:`iglu_n_days` rows: R's ``as.vector(t(gd2d))``
        element for element, for the metrics whose value depends on its length (iglu's
        ``auc`` pairs points ``iglu_n_days`` apart; ``sd_measures``' SDwsh runs windows into
        the padding)."""
        out: FloatArray = np.full(self.iglu_n_days * self.points_per_day, np.nan)
        out[: self.values.size] = self.values.ravel()
        return out

    @property
    def flat_times_ms(self) -> IntArray:
        """Instant (naive local epoch ms) of every point of :attr:`flat`."""
        n = self.values.size
        steps = np.arange(1, n + 1, dtype=np.int64) * np.int64(self.dt0 * MS_PER_MINUTE)
        out: IntArray = self.day_starts_ms[0] + steps
        return out


def clean_series(times_ms: npt.ArrayLike, glucose: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """Drop missing readings, sort by time and keep one reading per instant.

    As iglu's ``CGMS2DayByDay``: readings whose glucose is NaN are dropped, the rest are sorted
    (stably) by time, and of readings at exactly the same instant only the last is kept.

    Parameters
    ----------
    times_ms
        Reading instants, epoch milliseconds (integers).
    glucose
        Glucose, mg/dL.

    Returns
    -------
    tuple of numpy.ndarray
        Strictly increasing ``int64`` times and their ``float64`` glucose.
    """
    t, g = timed_series(times_ms, glucose)
    keep = np.isfinite(g)
    t, g = t[keep], g[keep]
    order = np.argsort(t, kind="stable")
    t, g = t[order], g[order]
    # Keep the last of equal instants: a reading is dropped when the next one shares its time.
    last_of_run = np.ones(t.size, dtype=bool)
    last_of_run[:-1] = t[1:] != t[:-1]
    return t[last_of_run], g[last_of_run]


def _aligned_dt0(dt0: int) -> int:
    """iglu's fix-up of a step that does not divide a day (1440 min)."""
    if MINUTES_PER_DAY % dt0 == 0:
        return dt0
    if dt0 > 20:
        return 20
    remainder = dt0 % 5
    return dt0 + 5 - remainder if remainder > 2 else dt0 - remainder


def day_by_day(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    dt0: int | None = None,
    inter_gap: float = 45,
) -> DayByDayGrid:
    """Interpolate one patient's CGM series onto iglu's day-by-day grid (``CGMS2DayByDay``).

    Steps, as the R package iglu 4.3.0:

    1. :func:`clean_series` (drop NaN glucose, sort, keep the last of equal instants).
    2. ``dt0`` (minutes) = the median interval between consecutive readings, rounded half to
       even (R's ``round``), unless given. ``dt0 > inter_gap`` is an error. A ``dt0`` that does
       not divide 1440 becomes 20 if above 20, else the nearest multiple of 5.
    3. Grid instants ``00:00 + k·dt0`` for ``k = 1 … n_days·1440/dt0``, from local midnight of the
       first day to the midnight that ends the last day.
    4. Linear interpolation between consecutive readings; NaN outside the first … last reading.
    5. Gap handling: grid points strictly between two consecutive readings more than
       ``inter_gap`` minutes apart are NaN (no interpolation across long gaps).

    Parameters
    ----------
    times_ms
        Reading instants as LOCAL wall-clock time expressed as naive epoch milliseconds, i.e.
        ``measured_at + utc_offset_minutes * 60000``: the caller shifts UTC to the patient's
        local time (DESIGN.md §4) so that rows are local calendar days. Any order.
    glucose
        Glucose, mg/dL (NaN = missing reading).
    dt0
        Grid step in minutes; ``None`` (default) estimates it as above.
    inter_gap
        Longest gap in minutes that is interpolated across (default 45).

    Returns
    -------
    DayByDayGrid
        The grid, its step and the local midnight of each row.

    Raises
    ------
    GridUndefined
        Fewer than two distinct reading instants (no interval to estimate ``dt0`` from, or
        nothing to interpolate), ``dt0 < 1`` or ``dt0 > inter_gap``.

    Notes
    -----
    R iglu sizes the grid as ``ceiling(span_in_days + 1)`` rows, which appends an all-NaN last
    row when the last reading's time of day is later than the first's; here the rows are exactly
    the calendar days from the first reading's day to the last reading's day. Every row both
    have holds identical values. Most metrics ignore the extra NaN row; the two that do not
    (``auc``, ``sd_measures``' SDwsh) read :attr:`DayByDayGrid.iglu_flat`, R's length.
    The iglu-python port differs in its default step (the truncated *mode* of the intervals
    instead of the rounded median) and skips the divisibility fix-up; we follow R. Reference:
    Broll et al. (2021) "Interpreting blood GLUcose data with R package iglu", PLoS ONE 16(4):
    e0248560, doi:10.1371/journal.pone.0248560.
    """
    t, g = clean_series(times_ms, glucose)
    if t.size < 2:
        raise GridUndefined("at least two distinct reading instants are needed")
    gaps_ms = np.diff(t)
    if dt0 is None:
        # np.round rounds half to even, as R's round().
        dt0 = int(np.round(np.median(gaps_ms / MS_PER_MINUTE)))
    if dt0 < 1:
        raise GridUndefined(f"grid step dt0={dt0} min is below one minute")
    if dt0 > inter_gap:
        raise GridUndefined(
            f"sampling interval dt0={dt0} min exceeds the interpolation gap {inter_gap} min"
        )
    dt0 = _aligned_dt0(dt0)

    first_day = int(t[0] // MS_PER_DAY)
    last_day = int(t[-1] // MS_PER_DAY)
    n_days = last_day - first_day + 1
    points_per_day = MINUTES_PER_DAY // dt0
    origin_ms = first_day * MS_PER_DAY
    step_ms = dt0 * MS_PER_MINUTE
    # Relative instants keep float64 exact (integers far below 2**53).
    grid_rel = np.arange(1, n_days * points_per_day + 1, dtype=np.int64) * step_ms
    t_rel = t - origin_ms
    values = np.interp(
        grid_rel.astype(np.float64), t_rel.astype(np.float64), g, left=np.nan, right=np.nan
    )

    long_gap = gaps_ms > inter_gap * MS_PER_MINUTE
    if long_gap.any():
        # Reading i is the last one at or before each grid point; inside a long gap i→i+1 the
        # point is NaN unless it coincides with reading i itself.
        i = np.searchsorted(t_rel, grid_rel, side="right") - 1
        inside = (i >= 0) & (i < t.size - 1)
        in_gap = np.zeros(grid_rel.size, dtype=bool)
        in_gap[inside] = long_gap[i[inside]] & (grid_rel[inside] > t_rel[i[inside]])
        values[in_gap] = np.nan

    day_starts = (np.arange(n_days, dtype=np.int64) + first_day) * MS_PER_DAY
    return DayByDayGrid(
        values=values.reshape(n_days, points_per_day),
        dt0=dt0,
        day_starts_ms=day_starts,
        first_reading_ms=int(t[0]),
        last_reading_ms=int(t[-1]),
    )


def grid_or_none(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    dt0: int | None = None,
    inter_gap: float = 45,
) -> DayByDayGrid | None:
    """:func:`day_by_day`, or None where the series cannot be gridded: there R stops with an
    error or gives NA, and the grid metrics give NaN."""
    try:
        return day_by_day(times_ms, glucose, dt0=dt0, inter_gap=inter_gap)
    except GridUndefined:
        return None
