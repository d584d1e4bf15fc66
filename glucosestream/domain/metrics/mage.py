"""MAGE: mean amplitude of glycaemic excursions (iglu's moving-average algorithm)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from glucosestream.domain.metrics.grid import MS_PER_MINUTE, DayByDayGrid, grid_or_none

__all__ = [
    "MAGE_DT0",
    "MageDirection",
    "mage",
    "mage_of_grid",
    "mage_on_shared_grid",
    "mages_of_grids",
    "mages_on_shared_grids",
]

MageDirection = Literal["avg", "service", "max", "plus", "minus"]

MAGE_DT0 = 5
"""Grid step of MAGE in minutes: iglu always interpolates MAGE onto a 5-minute grid, whatever
the sensor's rate."""
# Crossing-point types, as iglu's REL_MIN / REL_MAX.
_MIN, _MAX = 0, 1

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _SegmentMage:
    """MAGE+ and MAGE- of one segment, iglu's two ``mage_atomic`` rows."""

    plus: float
    minus: float
    plus_first: bool
    hours: float


def _moving_average(x: FloatArray, width: int, starts: IntArray) -> FloatArray:
    """Right-aligned NaN-skipping rolling mean of each segment of ``x`` (segments laid end to
    end, the ``starts`` their first indices, each at least ``width`` long), each segment's
    first ``width - 1`` values back-filled.

    As iglu's ``zoo::rollapply(gl, width, mean, align = "right", na.rm = TRUE)`` followed by
    ``replace(MA, 1:width, MA[width])``, segment by segment; a window with no reading gives NaN.
    """
    present = ~np.isnan(x)
    # The sums stay window by window (a running-sum difference would round differently, and
    # the sign of short minus long decides the crossings); every window is summed alike
    # whichever segment it is in, so one pass serves all. The counts are integers, exact as
    # running-sum differences.
    sums = sliding_window_view(np.where(present, x, 0.0), width).sum(axis=1)
    running = np.concatenate(([0], np.cumsum(present, dtype=np.int64)))
    counts = running[width:] - running[:-width]
    out = np.empty(x.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[width - 1 :] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    # A segment's first points: their windows reach into the segment before.
    head = starts[:, np.newaxis] + np.arange(width - 1)
    out[head] = out[starts + width - 1][:, np.newaxis]
    return out


def _crossings(
    gl: FloatArray, delta: FloatArray, starts: IntArray, stops: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Each segment's short/long moving-average crossings, with both its ends: their indices
    in ``gl`` and types, segment after segment, and where each segment's ids begin
    (segment ``s`` holds ``bounds[s]`` … ``bounds[s + 1] - 1``).

    iglu scans ``i = 2 … n`` of a segment and, where ``gl`` and ``delta`` are present at ``i``
    and ``i-1``, records a crossing when ``delta`` changes sign from ``i-1`` to ``i``, or else
    when its sign at ``i`` is opposite to its sign at the last recorded crossing (which catches
    sign changes hidden inside a gap). The running "sign at the last crossing" equals the sign
    of ``delta`` at the last such valid, non-zero point of the segment (its first point's before
    any), which lets the scan be vectorised over every segment at once.
    """
    n = gl.size
    sign = np.sign(np.where(np.isnan(delta), 0.0, delta))
    ok = ~np.isnan(gl) & ~np.isnan(delta)
    valid = np.zeros(n, dtype=bool)
    valid[1:] = ok[1:] & ok[:-1]
    valid[starts] = False  # a segment's first point has no point before it
    flips = np.zeros(n, dtype=bool)
    flips[1:] = valid[1:] & (sign[1:] * sign[:-1] < 0)
    candidates = np.flatnonzero(valid & (sign != 0))
    segment = np.searchsorted(starts, candidates, side="right") - 1
    leads = np.ones(candidates.size, dtype=bool)  # the first candidate of its segment
    leads[1:] = segment[1:] != segment[:-1]
    state_before = np.empty(candidates.size)
    state_before[1:] = sign[candidates[:-1]]
    state_before[leads] = sign[starts[segment[leads]]]
    flip = flips[candidates]
    is_cross = flip | ((sign[candidates] != state_before) & (state_before != 0))
    # A zero delta at a segment's first point gives a zero reference sign: nothing but a true
    # sign flip can register until the segment's first flip does.
    flips_to_here = np.cumsum(flip)
    lead_of = np.cumsum(leads) - 1
    flips_before_segment = (flips_to_here - flip)[leads][lead_of]
    unflipped = flips_to_here - flips_before_segment == 0
    is_cross &= ~(unflipped & (sign[starts[segment]] == 0))
    inner = candidates[is_cross]
    # Each segment's ids: its first point, its crossings, its last point (a crossing at the
    # last point is listed twice, as iglu lists it).
    ends = stops - 1
    positions = np.concatenate((starts, inner, ends))
    tags = np.concatenate(
        (
            np.zeros(starts.size, np.int8),
            np.ones(inner.size, np.int8),
            np.full(ends.size, 2, np.int8),
        )
    )
    first_types = np.where(delta[starts] > 0, _MAX, _MIN)
    last_types = np.where(delta[ends] > 0, _MAX, _MIN)
    kinds = np.concatenate((first_types, np.where(delta[inner] < 0, _MIN, _MAX), last_types))
    order = np.lexsort((tags, positions))
    per_segment = np.bincount(segment[is_cross], minlength=starts.size) + 2
    bounds = np.concatenate(([0], np.cumsum(per_segment)))
    return positions[order].astype(np.int64), kinds[order].astype(np.int64), bounds


_ROW_WIDTHS = (64, 512)
"""Windows up to these many points are searched all at once, as rows of one array each (most
are short; a few span a long monotone stretch)."""


def _extrema(gl: FloatArray, ids: IntArray, types: IntArray, bounds: IntArray) -> FloatArray:
    """Glucose nadir or peak between consecutive crossings of each segment (iglu's
    ``minmax``), segment after segment.

    Each search runs from the previous turning point to the next crossing, so it is a chain:
    window ``i`` is ``[turn(i - 1), ids[i + 1]]``, a segment's first window starts at its
    first point, and the first nadir (peak) of a window is its turning point. The chain is
    solved for every window at once by iterating to its fixed point: every window is searched
    from a guessed start (the crossing before it), then each window whose predecessor's turning
    point is not its start is searched again from there, until none changes. A segment's
    first window is right from the first pass, and each pass makes at least the next window
    of every chain right, so the result is the sequential one; in practice a few passes do.
    """
    last_of_segment = np.zeros(ids.size, dtype=bool)
    last_of_segment[bounds[1:] - 1] = True
    windows = np.flatnonzero(~last_of_segment)  # window w runs to ids[windows[w] + 1]
    first_of_segment = np.zeros(ids.size, dtype=bool)
    first_of_segment[bounds[:-1]] = True
    chained = ~first_of_segment[windows]
    missing = np.isnan(gl)
    # Nadirs are the first minimum of the glucose, peaks the first minimum of its negation:
    # one array holds both, NaN never chosen unless the whole window is missing.
    searched = np.concatenate((np.where(missing, np.inf, gl), np.where(missing, np.inf, -gl)))
    shift = np.where(types[windows] == _MIN, 0, gl.size)
    left = ids[windows].copy()
    right = ids[windows + 1]
    turn = np.empty(windows.size, dtype=np.int64)
    todo = np.arange(windows.size)
    while todo.size:
        turn[todo] = _first_minima(searched, left[todo] + shift[todo], right[todo] + shift[todo])
        turn[todo] -= shift[todo]
        following = todo + 1
        following = following[following < windows.size]
        following = following[chained[following]]
        todo = following[left[following] != turn[following - 1]]
        left[todo] = turn[todo - 1]
    if missing[turn].any():  # a whole window missing: as nanargmin/nanargmax do
        raise ValueError("All-NaN slice encountered")
    out: FloatArray = gl[turn]
    return out


def _first_minima(values: FloatArray, lo: IntArray, hi: IntArray) -> IntArray:
    """The index of the first minimum of ``values[lo[w] : hi[w] + 1]`` for every window ``w``."""
    out = np.empty(lo.size, dtype=np.int64)
    left = np.ones(lo.size, dtype=bool)
    for width in _ROW_WIDTHS:
        fits = left & (hi - lo < width)
        if fits.any():
            rows = lo[fits, np.newaxis] + np.arange(width)
            # Past its end a row repeats its last point: never an earlier minimum.
            rows = np.minimum(rows, hi[fits, np.newaxis])
            out[fits] = lo[fits] + values[rows].argmin(axis=1)
            left &= ~fits
    for w in np.flatnonzero(left).tolist():
        out[w] = lo[w] + int(values[lo[w] : hi[w] + 1].argmin())
    return out


def _first_largest_rise(values: list[float], lo: int, j: int) -> int:
    """First ``i`` in ``lo … j`` with the largest rise ``values[j] - values[i]``: ``np.argmax``
    of the rises, in plain floats (the lists are short; numpy's per-call overhead dominated).
    The excursion scan keeps the lowest point as it goes and calls this only where a rounding
    tie could make an earlier point iglu's choice.

    The rise itself is compared, not ``values[i]``: two values can round to the same rise.
    """
    top = values[j]
    best_i, best = lo, top - values[lo]
    for i in range(lo + 1, j + 1):
        rise = top - values[i]
        if rise > best:
            best_i, best = i, rise
    return best_i


def _excursions_up(turns: FloatArray, sd: float) -> tuple[list[float], list[tuple[int, int]]]:
    """MAGE+ heights (nadir → peak rises ≥ 1 SD) and their (nadir, peak) turning points."""
    return _excursions(turns.tolist(), sd, restart_at_extreme=False)


def _excursions_down(turns: FloatArray, sd: float) -> tuple[list[float], list[tuple[int, int]]]:
    """MAGE- heights (peak → nadir falls ≥ 1 SD, negative) and their (peak, nadir) points:
    the rises of the negated values (negation and subtraction round alike, so every
    comparison and tie is the one iglu makes on the values), except that iglu restarts the
    MAGE- search at the nadir."""
    heights, pairs = _excursions((-turns).tolist(), sd, restart_at_extreme=True)
    return [-height for height in heights], pairs


def _excursions(
    values: list[float], sd: float, *, restart_at_extreme: bool
) -> tuple[list[float], list[tuple[int, int]]]:
    """Heights of the rises ≥ 1 SD from a low turning point to a high one, and their (low,
    high) turning points.

    iglu's loop: from the last restart, the first point whose largest rise (from the lowest
    point since the restart, the first such low) reaches 1 SD starts an excursion; its high is
    the highest point before a fall of more than 1 SD (or the end). The search restarts where
    that fall is found, or with ``restart_at_extreme`` at the high. The lowest point since the
    restart is kept as the search goes, not searched for again at every point; an earlier,
    higher point whose rise rounds to the same value would be iglu's first low instead, so
    where one could (the lowest of the points before the kept low rises as far), the low is
    searched for as iglu does.
    """
    heights: list[float] = []
    pairs: list[tuple[int, int]] = []
    n = len(values)
    if n == 0:
        return heights, pairs
    j = prev_j = 0
    # Over prev_j … j: the lowest value, its first index, and the lowest before that index.
    low, low_at, before_low = values[0], 0, math.inf
    while j < n:
        top = values[j]
        rise = top - low
        if rise >= sd:
            i = low_at if top - before_low < rise else _first_largest_rise(values, prev_j, j)
            for k in range(j, n):
                if values[k] > values[j]:
                    j = k
                if values[k] - values[j] < -sd or k == n - 1:
                    heights.append(values[j] - values[i])
                    pairs.append((i, j))
                    prev_j, j = (j if restart_at_extreme else k), k
                    break
            low, low_at, before_low = _lowest(values, prev_j, j)
        else:
            j += 1
            if j < n and values[j] < low:
                before_low, low, low_at = low, values[j], j
    return heights, pairs


def _lowest(values: list[float], lo: int, hi: int) -> tuple[float, int, float]:
    """Over ``values[lo … hi]``: the lowest value, its first index, and the lowest value
    before that index (inf when there is none)."""
    low, low_at, before_low = values[lo], lo, math.inf
    for at in range(lo + 1, hi + 1):
        if values[at] < low:
            before_low, low, low_at = low, values[at], at
    return low, low_at, before_low


@dataclass(frozen=True, slots=True)
class _Stretches:
    """The gap-free segments MAGE is computed on, of many patients, laid end to end."""

    gl: FloatArray
    starts: IntArray
    """Each segment's first index in :attr:`gl`, ascending."""
    stops: IntArray
    """One past each segment's last index."""
    owners: list[int]
    """The patient (index into the grids) of each segment."""
    sd: list[float]
    """Each segment's sample SD of glucose (mg/dL), ≥ 1."""


def _stretches(grids: Sequence[DayByDayGrid], long_ma: int, max_gap: float) -> _Stretches:
    """The segments of every grid that qualify for ``mage_atomic``: the grid trimmed to its
    first and last present point (at least 7 and ``long_ma`` points), split at missing runs
    longer than ``max_gap`` minutes, then the parts with ≥ 2 readings, ≥ 7 and ≥ ``long_ma``
    points and SD ≥ 1 mg/dL."""
    parts: list[FloatArray] = []
    owners: list[int] = []
    sds: list[float] = []
    for owner, grid in enumerate(grids):
        gl = grid.flat
        present = np.flatnonzero(~np.isnan(gl))
        if present.size == 0:
            continue
        gl = gl[present[0] : present[-1] + 1]
        if gl.size < 7 or gl.size < long_ma:
            continue
        for part in _segments(gl, max_gap):
            points = gl[part]
            values = points[~np.isnan(points)]
            if values.size < 2 or points.size < 7 or points.size < long_ma:
                continue
            sd = float(np.std(values, ddof=1))
            if sd < 1:
                continue
            parts.append(points)
            owners.append(owner)
            sds.append(sd)
    sizes = np.fromiter((part.size for part in parts), np.int64, len(parts))
    stops = np.cumsum(sizes)
    return _Stretches(
        gl=np.concatenate(parts) if parts else np.empty(0),
        starts=stops - sizes,
        stops=stops,
        owners=owners,
        sd=sds,
    )


def _segment_mages(stretches: _Stretches, short_ma: int, long_ma: int) -> list[_SegmentMage | None]:
    """iglu's ``mage_atomic`` on each segment; ``None`` where it yields no excursion. The
    moving averages and crossings of all segments are found at once; the turning points and
    excursions, sequential scans, segment by segment."""
    if not stretches.owners:
        return []
    gl, starts = stretches.gl, stretches.starts
    delta = _moving_average(gl, short_ma, starts) - _moving_average(gl, long_ma, starts)
    ids, types, bounds = _crossings(gl, delta, starts, stretches.stops)
    all_turns = _extrema(gl, ids, types, bounds)
    # A segment of k ids has k - 1 windows, so k - 1 turning points.
    turn_bounds = (bounds - np.arange(bounds.size)).tolist()
    out: list[_SegmentMage | None] = []
    for segment, (start, stop, sd) in enumerate(
        zip(starts.tolist(), stretches.stops.tolist(), stretches.sd, strict=True)
    ):
        turns = all_turns[turn_bounds[segment] : turn_bounds[segment + 1]]
        up, up_pairs = _excursions_up(turns, sd)
        down, down_pairs = _excursions_down(turns, sd)
        if not up and not down:
            out.append(None)
            continue
        plus_first = bool(up) and (not down or up_pairs[0][1] <= down_pairs[0][0])
        out.append(
            _SegmentMage(
                plus=float(np.mean(up)) if up else math.nan,
                minus=abs(float(np.mean(down))) if down else math.nan,
                plus_first=plus_first,
                # The span of the segment's grid instants.
                hours=float((stop - 1 - start) * MAGE_DT0 * MS_PER_MINUTE) / 3_600_000,
            )
        )
    return out


def _segments(gl: FloatArray, max_gap: float) -> list[slice]:
    """Split at runs of missing grid points longer than ``max_gap`` minutes (iglu's rule)."""
    missing = np.isnan(gl).astype(np.int8)
    edges = np.diff(np.concatenate(([0], missing, [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    long_run = (run_ends - run_starts) * MAGE_DT0 > max_gap
    cuts_start = run_starts[long_run]
    cuts_end = run_ends[long_run]
    starts = np.concatenate(([0], cuts_end))
    stops = np.concatenate((cuts_start, [gl.size]))
    return [slice(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def mage(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    short_ma: int = 5,
    long_ma: int = 32,
    direction: MageDirection = "avg",
    inter_gap: float = 45,
    max_gap: float = 180,
) -> float:
    """MAGE of one patient, iglu 4.3.0 ``mage(version = "ma")``.

    Algorithm (Fernandes et al. 2022, as implemented in iglu):

    1. Interpolate onto iglu's grid with a fixed 5-minute step; trim leading/trailing NaN.
    2. Split into segments at runs of missing grid points longer than ``max_gap`` minutes.
    3. Per segment (needs ≥ 7 and ≥ ``long_ma`` points and SD ≥ 1 mg/dL): moving averages
       MA_short and MA_long (``short_ma`` / ``long_ma`` points, NaN-skipping, right-aligned,
       leading values back-filled); their crossings bracket the turning points; between
       consecutive crossings take the glucose nadir or peak.
    4. MAGE+ = mean of nadir→peak rises ≥ SD; MAGE- = |mean| of peak→nadir falls ≥ SD, where
       SD is the segment's sample SD of glucose (Service's one-SD rule).
    5. ``direction``: "avg" averages MAGE+ and MAGE- (each segment's present values),
       "plus"/"minus" pick one, "max" the larger per segment, "service" the direction of
       the first excursion; segments are then weighted by their duration.

    Parameters
    ----------
    times_ms
        Reading instants, local wall-clock naive epoch ms (see
        :func:`~glucosestream.domain.metrics.grid.day_by_day`).
    glucose
        Glucose, mg/dL.
    short_ma, long_ma
        Moving-average windows in 5-minute points (defaults 5 and 32, iglu's); swapped if
        ``short_ma >= long_ma``.
    direction
        See step 5 (default "avg").
    inter_gap
        Longest gap in minutes interpolated across (default 45).
    max_gap
        Missing stretches longer than this (minutes, default 180) split the trace.

    Returns
    -------
    float
        MAGE in mg/dL (≥ 0); NaN when no segment qualifies or has an excursion.

    Notes
    -----
    Gap handling: gaps ≤ ``inter_gap`` are interpolated; longer ones stay NaN inside a segment
    (the moving averages skip them and crossings are detected across them); NaN stretches
    longer than ``max_gap`` split segments. Where the iglu-python port departs from R we follow
    R: R counts an excursion at exactly 1 SD (port: strictly more), needs ``long_ma`` points
    per segment (port: ``short_ma``), splits at NaN runs of length·5 > ``max_gap`` (port: at
    time between readings > ``max_gap``, one step earlier), and only looks for a crossing
    hidden in a gap at points where glucose and delta are present now and one step before
    (port: also inside the gap, so its crossing can sit on a missing point).

    References
    ----------
    Service et al. (1970) "Mean amplitude of glycemic excursions, a measure of diabetic
    instability", Diabetes 19:644-655, doi:10.2337/diab.19.9.644. Fernandes et al. (2022)
    "Open-source algorithm to calculate mean amplitude of glycemic excursions using short and
    long moving averages", J Diabetes Sci Technol 16(2):576-577,
    doi:10.1177/19322968211061165.
    """
    if short_ma < 1 or long_ma < 1:
        raise ValueError("moving-average windows must be positive")
    if short_ma >= long_ma:
        short_ma, long_ma = long_ma, short_ma
    grid = grid_or_none(times_ms, glucose, dt0=MAGE_DT0, inter_gap=inter_gap)
    return math.nan if grid is None else mage_of_grid(grid, short_ma, long_ma, direction, max_gap)


def mage_of_grid(
    grid: DayByDayGrid,
    short_ma: int = 5,
    long_ma: int = 32,
    direction: MageDirection = "avg",
    max_gap: float = 180,
) -> float:
    """MAGE (mg/dL) of a patient's grid already built by
    :func:`~glucosestream.domain.metrics.grid.day_by_day` with step :data:`MAGE_DT0` (a grid
    whose estimated step is 5 minutes is that grid): the patient's other grid metrics can then
    share it. Same algorithm (see :func:`mage`), same value.
    """
    return mages_of_grids([grid], short_ma, long_ma, direction, max_gap)[0]


def mages_of_grids(
    grids: Sequence[DayByDayGrid],
    short_ma: int = 5,
    long_ma: int = 32,
    direction: MageDirection = "avg",
    max_gap: float = 180,
) -> list[float]:
    """:func:`mage_of_grid` of many patients' grids at once (same values, same order): the
    moving averages and their crossings of every patient's segments are computed in one pass
    over the segments laid end to end; only the sequential turning-point and excursion scans
    run segment by segment."""
    for grid in grids:
        if grid.dt0 != MAGE_DT0:
            raise ValueError(f"MAGE needs a {MAGE_DT0}-minute grid, not {grid.dt0} minutes")
    if short_ma < 1 or long_ma < 1:
        raise ValueError("moving-average windows must be positive")
    if direction not in _DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    if short_ma >= long_ma:
        short_ma, long_ma = long_ma, short_ma
    stretches = _stretches(grids, long_ma, max_gap)
    by_patient: list[list[_SegmentMage]] = [[] for _ in grids]
    for owner, result in zip(
        stretches.owners, _segment_mages(stretches, short_ma, long_ma), strict=True
    ):
        if result is not None:
            by_patient[owner].append(result)
    return [_weighted(results, direction) for results in by_patient]


_DIRECTIONS = frozenset(("avg", "service", "max", "plus", "minus"))


def _weighted(results: Sequence[_SegmentMage], direction: MageDirection) -> float:
    """A patient's MAGE from its segments': the chosen side(s) of each, weighted by the
    segments' durations (iglu's last step)."""
    values: list[float] = []
    hours: list[float] = []
    for r in results:
        if direction == "avg":
            chosen = [v for v in (r.plus, r.minus) if not math.isnan(v)]
        elif direction == "plus":
            chosen = [r.plus]
        elif direction == "minus":
            chosen = [r.minus]
        elif direction == "service":
            chosen = [r.plus if r.plus_first else r.minus]
        else:
            # "max": R keeps the rows equal to max(mage); a missing side makes max NA and drops
            # both.
            if math.isnan(r.plus) or math.isnan(r.minus):
                continue
            top = max(r.plus, r.minus)
            chosen = [v for v in (r.plus, r.minus) if v == top]
        values.extend(chosen)
        hours.extend([r.hours] * len(chosen))
    if not values:
        return math.nan
    weights = np.asarray(hours) / np.sum(hours)
    return float(np.sum(np.asarray(values) * weights))


def mage_on_shared_grid(
    grid: DayByDayGrid | None, times_ms: npt.ArrayLike, glucose: npt.ArrayLike
) -> float:
    """MAGE (mg/dL, iglu's defaults) of a patient whose default grid (``day_by_day`` at the
    estimated step; None when there is none) is already built: that grid is MAGE's own when its
    step is :data:`MAGE_DT0`, so it is reused; otherwise :func:`mage` builds its 5-minute grid
    (which may exist where the default one does not, e.g. hourly readings)."""
    return mages_on_shared_grids([grid], [(times_ms, glucose)])[0]


def mages_on_shared_grids(
    grids: Sequence[DayByDayGrid | None],
    readings: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
) -> list[float]:
    """:func:`mage_on_shared_grid` of many patients (``grids[i]`` and ``readings[i]``, its
    ``(times_ms, glucose)``, of patient ``i``), computed at once by :func:`mages_of_grids`."""
    own: list[DayByDayGrid] = []
    of_patient: list[int] = []
    for patient, (grid, (times_ms, glucose)) in enumerate(zip(grids, readings, strict=True)):
        if grid is None or grid.dt0 != MAGE_DT0:
            grid = grid_or_none(times_ms, glucose, dt0=MAGE_DT0)
        if grid is not None:
            own.append(grid)
            of_patient.append(patient)
    out = [math.nan] * len(grids)
    for patient, value in zip(of_patient, mages_of_grids(own), strict=True):
        out[patient] = value
    return out
