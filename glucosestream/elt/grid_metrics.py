"""The grid metrics of a chunk of patients: Arrow readings in, three Arrow tables out.

The metrics computed on iglu's interpolated day-by-day grid (active %, MAG, MODD, CONGA, MAGE and
the episode counts of :mod:`glucosestream.domain.metrics`) cannot be written as set-based SQL
without changing their values (MAGE's moving averages and turning points, the episodes' run
rules); they run as numpy, per patient (:func:`patient_grid`). This module is that step as one
pure function of a table of ``period_readings`` rows, so that the same code runs wherever the
readings are: in the local ELT, in the grid-metrics Lambda over one chunk of patients
(``consumers/grid_metrics``; a Step Functions Distributed Map fans the chunks out, see
``docs/adr/0003-grid-metrics-on-aws.md``), or over a CSV's readings (``glucosestream metrics``,
``glucosestream episodes``). The iglu profile (every R iglu output,
:mod:`glucosestream.domain.metrics.iglu_profile`) is computed on the same grid, per patient.

It imports numpy, pyarrow and the pure domain package only (no DuckDB, no sqlglot, no
``glucosestream.local``): the Lambda's layer carries nothing else.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from glucosestream.domain.metrics import (
    DayByDayGrid,
    Episode,
    EpisodeReport,
    active_percent,
    conga_of_grid,
    episodes,
    mag_of_grid,
    modd_of_grid,
)
from glucosestream.domain.metrics.episodes import (
    COUNTED_EPISODES,
    episode_counts_of_grids,
    episodes_on_shared_grid,
)
from glucosestream.domain.metrics.grid import grid_or_none
from glucosestream.domain.metrics.iglu_profile import (
    NUMERIC_COLUMNS,
    PatientInput,
    axis_wall_clocks,
    iglu_profile,
)
from glucosestream.domain.metrics.mage import mage_on_shared_grid, mages_on_shared_grids
from glucosestream.elt.reading_order import SeriesOrder, series_order


@dataclass(frozen=True, slots=True)
class PatientSeries:
    """One patient's readings on the time axis of the grid metrics.

    ``times`` is the patient's local time on a continuous axis: ``measured_at`` (UTC) plus the
    UTC offset of the patient's first reading of the series, in epoch ms. Without an offset
    change it equals local wall-clock time. Across a daylight-saving change wall-clock time
    repeats an hour (clocks back) or skips one (clocks forward); the continuous axis keeps every
    reading at its true distance from the others, so no two readings merge, no gap is invented,
    and interpolation, gaps, episode durations and active % follow elapsed time — as R iglu's
    CGMS2DayByDay and active_percent do, working on POSIXct instants. Grid days after a change
    are then shifted by the change (an hour) against the wall clock, as in iglu. Daily metrics,
    ADRR and the AGP use the wall clock itself (``local_time`` in SQL).
    """

    times: npt.NDArray[np.int64]
    """Continuous local axis, epoch ms, ascending."""
    glucose: npt.NDArray[np.float64]
    local_times: npt.NDArray[np.int64]
    """Each reading's wall-clock time (``measured_at + utc_offset``), naive epoch ms."""

    def wall_clock(self, axis_ms: int) -> int:
        """The wall-clock time (naive epoch ms) of an instant on the axis, e.g. an episode's
        start: the offset of the reading at or before it applies."""
        return int(self.wall_clocks(np.array([axis_ms], dtype=np.int64))[0])

    def wall_clocks(self, axis_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """:meth:`wall_clock` of many instants at once (one search for all)."""
        return axis_wall_clocks(self.times, self.local_times, axis_ms)


SeriesOf = Callable[[pa.Table], dict[str, PatientSeries]]
"""How a table of readings becomes per-patient series (:func:`patient_series` by default)."""

READING_COLUMNS = ("patient_id", "device_id", "measured_at", "local_time", "glucose_mg_dl")
"""The columns of ``sql/curated/period_readings.sql`` (the input of :func:`grid_tables`)."""
COUNT_COLUMNS = (
    "hypo_lv1_episodes", "hypo_lv2_episodes", "hyper_lv1_episodes", "hyper_lv2_episodes",
)  # fmt: skip
GRID_COLUMNS = ("active_percent", "mag", "modd", "conga_1", "conga_24", "mage", *COUNT_COLUMNS)
"""The columns of ``glucosestream.reports.metrics.METRIC_COLUMNS`` computed here, in that
order."""

GRID_METRICS_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("period_start", pa.date32()),
        *((column, pa.float64()) for column in GRID_COLUMNS if column not in COUNT_COLUMNS),
        *((column, pa.int64()) for column in COUNT_COLUMNS),
        ("period_end", pa.date32()),
    ]
)
"""One row per patient: the grid columns of ``patient_period_metrics`` with its keys."""
EPISODES_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("type", pa.string()),
        ("level", pa.string()),
        ("start_local", pa.timestamp("us")),
        ("end_local", pa.timestamp("us")),
        ("duration_min", pa.int64()),
        ("extreme_mg_dl", pa.float64()),
        ("mean_mg_dl", pa.float64()),
        ("exclusive", pa.bool_()),
        ("period_end", pa.date32()),
    ]
)
"""One row per episode: the columns (and types) of the ``glycemic_episodes`` mart."""
IGLU_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("period_start", pa.date32()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("period_end", pa.date32()),
    ]
)
"""One row per (patient, iglu profile column): the ``patient_period_metrics_iglu`` mart. Long,
not wide: iglu's names (``summary_glu.1st Qu.``) are not catalog column names, and a metric
added to the profile needs no schema change. ``value`` is null where R gives NA."""
IGLU_MART_COLUMNS = NUMERIC_COLUMNS
"""The mart's ``metric`` values: the profile's numbers. R's start and end dates of
``active_percent`` are instants (the first and last reading), not values."""

_TO_MS = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000), "ns": (1, 1_000_000)}
"""Timestamp unit → (multiplier, floor divisor) giving milliseconds."""


class ReadingsError(ValueError):
    """The readings table lacks a column or has one of the wrong type."""


def grid_metrics(
    times_ms: npt.ArrayLike, glucose: npt.ArrayLike, report: EpisodeReport | None = None
) -> dict[str, float]:
    """One patient's grid metrics (the values iglu 4.3.0 gives).

    Parameters
    ----------
    times_ms
        Local wall-clock instants, naive epoch milliseconds.
    glucose
        Glucose, mg/dL.
    report
        The patient's :func:`~glucosestream.domain.metrics.episodes` when already computed
        (the episode counts come from it).
    """
    grid = grid_or_none(times_ms, glucose)
    if report is None:
        return _grids_metrics([(times_ms, glucose)], [grid])[0]
    mage = mage_on_shared_grid(grid, times_ms, glucose)
    return _grid_metrics(times_ms, glucose, grid, {**_report_counts(report), "mage": mage})


def chunk_grid_metrics(chunk: Sequence[PatientSeries]) -> list[dict[str, float]]:
    """:func:`grid_metrics` of each patient of ``chunk`` (same values, same order)."""
    readings = [(series.times, series.glucose) for series in chunk]
    return _grids_metrics(readings, [grid_or_none(times, glucose) for times, glucose in readings])


def _grids_metrics(
    readings: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]], grids: Sequence[DayByDayGrid | None]
) -> list[dict[str, float]]:
    """The grid metrics of patients (``readings[i]``, ``(times_ms, glucose)``, and its default
    grid ``grids[i]``): the episode counts and MAGE of all at once
    (:func:`~glucosestream.domain.metrics.episodes.episode_counts_of_grids`,
    :func:`~glucosestream.domain.metrics.mage.mages_on_shared_grids`), the rest per grid."""
    counts = episode_counts_of_grids(grids).tolist()
    mages = mages_on_shared_grids(grids, readings)
    return [
        _grid_metrics(
            times, glucose, grid, {**dict(zip(COUNT_COLUMNS, row, strict=True)), "mage": mage}
        )
        for (times, glucose), grid, row, mage in zip(readings, grids, counts, mages, strict=True)
    ]


def _report_counts(report: EpisodeReport) -> dict[str, int]:
    """The :data:`COUNT_COLUMNS` of a patient's episode report."""
    return {
        column: report.count(kind, level)
        for column, (kind, level) in zip(COUNT_COLUMNS, COUNTED_EPISODES, strict=True)
    }


IN_IGLU_PROFILE = {
    "active_percent": "active_percent.active_percent",
    "mag": "mag.MAG",
    "modd": "modd.MODD",
    "conga_24": "conga.CONGA",
    "mage": "mage.MAGE",
}
"""Grid columns the iglu profile holds too (same function, same arguments, same grid)."""


ON_GRID: dict[str, Callable[[DayByDayGrid], float]] = {
    "mag": mag_of_grid,
    "modd": modd_of_grid,
    "conga_24": functools.partial(conga_of_grid, n=24),
    "conga_1": functools.partial(conga_of_grid, n=1),
}
"""Grid columns computed from the default grid alone."""


def _grid_metrics(
    times_ms: npt.ArrayLike,
    glucose: npt.ArrayLike,
    grid: DayByDayGrid | None,
    known: Mapping[str, float],
) -> dict[str, float]:
    """:func:`grid_metrics` on the patient's default grid, built once for all; ``known``: the
    columns already computed (the episode counts, MAGE, or what an iglu profile holds:
    :data:`IN_IGLU_PROFILE`), the others computed here."""
    values = dict(known)
    for column, metric in ON_GRID.items():
        if column not in values:
            # No grid at the estimated step: NaN, as their own functions say.
            values[column] = math.nan if grid is None else metric(grid)
    if "active_percent" not in values:
        values["active_percent"] = active_percent(times_ms, glucose)
    return {column: values[column] for column in GRID_COLUMNS}


def check_readings(readings: pa.Table) -> None:
    """Raise :class:`ReadingsError` naming the first missing or mistyped column."""
    missing = [name for name in READING_COLUMNS if name not in readings.column_names]
    if missing:
        raise ReadingsError(f"readings lack the column(s) {', '.join(missing)}")
    local = readings.schema.field("local_time").type
    if not pa.types.is_timestamp(local) or local.tz is not None:
        raise ReadingsError(f"local_time must be a timestamp without time zone, not {local}")
    glucose = readings.schema.field("glucose_mg_dl").type
    if not (pa.types.is_floating(glucose) or pa.types.is_integer(glucose)):
        raise ReadingsError(f"glucose_mg_dl must be numeric, not {glucose}")


def local_epoch_ms(moments: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """Timestamps as epoch milliseconds (floored, whatever the unit; naive ones as if UTC)."""
    multiplier, divisor = _TO_MS[moments.type.unit]
    raw = np.asarray(moments.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    return raw * multiplier // divisor


def patient_series(
    readings: pa.Table, order: SeriesOrder | None = None
) -> dict[str, PatientSeries]:
    """Each patient's series (see :class:`PatientSeries`), patients in id order.

    Readings are ordered by ``measured_at`` then ``device_id`` (two devices at one instant), so
    the result does not depend on the order of the input rows (the grid keeps the last reading
    of an instant). ``order``: the rows' :func:`~glucosestream.elt.reading_order.series_order`
    when already found.
    """
    check_readings(readings)
    if order is None:
        order = series_order(readings)
    utc = order.ordered(local_epoch_ms(readings.column("measured_at")))
    local = order.ordered(local_epoch_ms(readings.column("local_time")))
    glucose = order.ordered(
        np.asarray(readings.column("glucose_mg_dl").to_numpy(), dtype=np.float64)
    )
    out = {}
    for patient, (start, end) in zip(
        order.patients, itertools.pairwise(order.bounds.tolist()), strict=True
    ):
        base_offset = local[start] - utc[start]
        out[str(patient)] = PatientSeries(
            utc[start:end] + base_offset, glucose[start:end], local[start:end]
        )
    return out


def on_wall_clock(episode: Episode, series: PatientSeries) -> Episode:
    """The episode with its start and end on the patient's wall clock (for display)."""
    return replace(
        episode,
        start_ms=series.wall_clock(episode.start_ms),
        end_ms=series.wall_clock(episode.end_ms),
    )


def wall_clock_episodes(
    series: PatientSeries, report: EpisodeReport | None = None
) -> tuple[Episode, ...]:
    """A patient's episodes: found on the continuous axis, shown on the wall clock (the rows of
    the ``glycemic_episodes`` mart and of ``glucosestream episodes``).

    ``report``: the series' :func:`~glucosestream.domain.metrics.episodes` when already computed.
    """
    report = report if report is not None else episodes(series.times, series.glucose)
    found = report.episodes
    if not found:
        return ()
    # As on_wall_clock, episode by episode, with one search for all starts and one for all ends.
    starts = series.wall_clocks(np.fromiter((e.start_ms for e in found), np.int64, len(found)))
    ends = series.wall_clocks(np.fromiter((e.end_ms for e in found), np.int64, len(found)))
    return tuple(
        Episode(
            e.kind,
            e.level,
            start,
            end,
            e.duration_min,
            e.extreme_mg_dl,
            e.mean_mg_dl,
            e.exclusive,
        )
        for e, start, end in zip(found, starts.tolist(), ends.tolist(), strict=True)
    )


@dataclass(frozen=True, slots=True)
class PatientGrid:
    """One patient's grid metrics (:data:`GRID_COLUMNS`) and episodes (on the wall clock), and
    when asked for, the iglu profile (:data:`~glucosestream.domain.metrics.iglu_profile.
    IGLU_COLUMNS`)."""

    patient_id: str
    metrics: dict[str, float]
    episodes: tuple[Episode, ...]
    iglu: dict[str, float] | None = None


def patient_grid(patient_id: str, series: PatientSeries, iglu: bool = False) -> PatientGrid:
    """What the grid gives of one patient: the period marts' grid columns and episode rows
    (:func:`grid_tables`), and ``glucosestream metrics``' (the grid and episodes found once for
    all, the iglu profile's included when ``iglu``)."""
    grid, report = _grid_and_episodes(series)
    known: dict[str, float] = {**_report_counts(report)}
    if iglu:
        profile = _iglu_profile(series, grid, report)
        known.update({column: profile[name] for column, name in IN_IGLU_PROFILE.items()})
    else:
        profile = None
        known["mage"] = mage_on_shared_grid(grid, series.times, series.glucose)
    return PatientGrid(
        patient_id,
        _grid_metrics(series.times, series.glucose, grid, known),
        wall_clock_episodes(series, report),
        profile,
    )


def chunk_iglu_profiles(chunk: Sequence[PatientSeries]) -> list[dict[str, float]]:
    """The iglu profile of :func:`patient_grid` with ``iglu`` alone (no episode list), of
    each patient of ``chunk``."""
    return [_iglu_profile(series, *_grid_and_episodes(series)) for series in chunk]


def _grid_and_episodes(series: PatientSeries) -> tuple[DayByDayGrid | None, EpisodeReport]:
    """The patient's default grid (None when there is none) and the episodes found on it."""
    grid = grid_or_none(series.times, series.glucose)
    return grid, episodes_on_shared_grid(grid, series.times, series.glucose)


def _iglu_profile(
    series: PatientSeries, grid: DayByDayGrid | None, report: EpisodeReport
) -> dict[str, float]:
    return iglu_profile(
        PatientInput(series.times, series.glucose, grid, report, series.local_times)
    )


@dataclass(frozen=True, slots=True)
class GridTables:
    """The grid metrics of a chunk of patients: one row per patient, one per episode, one per
    patient and iglu metric."""

    metrics: pa.Table
    episodes: pa.Table
    iglu: pa.Table
    """:data:`IGLU_SCHEMA`: every patient's iglu profile, one row per metric."""


def grid_tables(
    readings: pa.Table,
    period_start: date,
    period_end: date,
    series: SeriesOf = patient_series,
) -> GridTables:
    """The grid metrics and the episodes of every patient in ``readings``.

    Parameters
    ----------
    readings
        ``period_readings`` rows (:data:`READING_COLUMNS`) of one or more whole patients: a
        patient's readings must all be in the same call (the metrics are per patient).
    period_start, period_end
        The window the readings cover; written as the rows' ``period_start``/``period_end``.
    series
        How the readings become per-patient time series; the per-patient time axis is defined
        in one place and this function can be pointed at it.

    Returns
    -------
    GridTables
        ``metrics`` in :data:`GRID_METRICS_SCHEMA` (patients in id order) and ``episodes`` in
        :data:`EPISODES_SCHEMA`: each patient's :func:`patient_grid`, as ``glucosestream
        metrics`` and ``glucosestream episodes`` compute it for the same readings.
    """
    grids = [patient_grid(patient, one, iglu=True) for patient, one in series(readings).items()]
    return GridTables(
        metrics=grid_metrics_table(
            [grid.patient_id for grid in grids],
            [grid.metrics for grid in grids],
            period_start,
            period_end,
        ),
        episodes=episodes_table(grids, period_end),
        iglu=iglu_table(grids, period_start, period_end),
    )


def grid_metrics_table(
    patients: Sequence[str],
    metrics: Sequence[Mapping[str, float]],
    period_start: date | None,
    period_end: date | None,
) -> pa.Table:
    """The patients' grid metrics (``metrics[i]`` of ``patients[i]``), one row each in
    :data:`GRID_METRICS_SCHEMA` (the period null when the readings have none, as a CSV's)."""
    rows = len(patients)
    return pa.Table.from_arrays(
        [
            pa.array(patients, pa.string()),
            pa.array([period_start] * rows, pa.date32()),
            *(
                pa.array([values[field.name] for values in metrics], field.type)
                for field in GRID_METRICS_SCHEMA
                if field.name in GRID_COLUMNS
            ),
            pa.array([period_end] * rows, pa.date32()),
        ],
        schema=GRID_METRICS_SCHEMA,
    )


def iglu_table(
    grids: Sequence[PatientGrid], period_start: date | None, period_end: date | None
) -> pa.Table:
    """The patients' iglu profiles (computed: ``patient_grid(..., iglu=True)``), one row per
    patient and :data:`IGLU_MART_COLUMNS` metric in :data:`IGLU_SCHEMA`, NaN as null."""
    metrics = len(IGLU_MART_COLUMNS)
    values = np.array(
        [[_profile(grid)[column] for column in IGLU_MART_COLUMNS] for grid in grids],
        dtype=np.float64,
    ).reshape(len(grids), metrics)
    rows = len(grids) * metrics
    patients = np.repeat(np.array([grid.patient_id for grid in grids], dtype=object), metrics)
    return pa.Table.from_arrays(
        [
            pa.array(patients, pa.string()),
            pa.array([period_start] * rows, pa.date32()),
            pa.array(list(IGLU_MART_COLUMNS) * len(grids), pa.string()),
            pa.array(values.ravel(), pa.float64(), mask=np.isnan(values.ravel())),
            pa.array([period_end] * rows, pa.date32()),
        ],
        schema=IGLU_SCHEMA,
    )


def _profile(grid: PatientGrid) -> dict[str, float]:
    if grid.iglu is None:
        raise ValueError(f"patient {grid.patient_id}: the iglu profile was not computed")
    return grid.iglu


def episodes_table(grids: Sequence[PatientGrid], period_end: date) -> pa.Table:
    """The patients' episodes, one row each in :data:`EPISODES_SCHEMA`."""
    found = _EpisodeColumns()
    for grid in grids:
        found.add(grid.patient_id, grid.episodes)
    return found.table(period_end)


class _EpisodeColumns:
    """Episode rows gathered column by column (a chunk can hold tens of thousands)."""

    def __init__(self) -> None:
        self.patient_id: list[str] = []
        self.type: list[str] = []
        self.level: list[str] = []
        self.start_ms: list[int] = []
        self.end_ms: list[int] = []
        self.duration_min: list[int] = []
        self.extreme_mg_dl: list[float] = []
        self.mean_mg_dl: list[float] = []
        self.exclusive: list[bool] = []

    def add(self, patient: str, episodes: Sequence[Episode]) -> None:
        for episode in episodes:
            self.patient_id.append(patient)
            self.type.append(episode.kind)
            self.level.append(episode.level)
            self.start_ms.append(int(episode.start_ms))
            self.end_ms.append(int(episode.end_ms))
            self.duration_min.append(int(episode.duration_min))
            self.extreme_mg_dl.append(float(episode.extreme_mg_dl))
            self.mean_mg_dl.append(float(episode.mean_mg_dl))
            self.exclusive.append(bool(episode.exclusive))

    def table(self, period_end: date) -> pa.Table:
        def instants(ms: list[int]) -> pa.Array:
            return pa.array(np.asarray(ms, dtype=np.int64) * 1000, pa.timestamp("us"))

        return pa.Table.from_arrays(
            [
                pa.array(self.patient_id, pa.string()),
                pa.array(self.type, pa.string()),
                pa.array(self.level, pa.string()),
                instants(self.start_ms),
                instants(self.end_ms),
                pa.array(self.duration_min, pa.int64()),
                pa.array(self.extreme_mg_dl, pa.float64()),
                pa.array(self.mean_mg_dl, pa.float64()),
                pa.array(self.exclusive, pa.bool_()),
                pa.array([period_end] * len(self.patient_id), pa.date32()),
            ],
            schema=EPISODES_SCHEMA,
        )
