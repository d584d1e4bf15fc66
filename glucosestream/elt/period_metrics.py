"""The period metrics, in one place: the period marts that need the grid metrics.

``patient_period_metrics`` is the SQL metrics of ``sql/marts/patient_period_metrics.sql`` joined
with each patient's grid metrics (:func:`glucosestream.elt.grid_metrics.patient_grid`) by
``sql/grid/patient_period_metrics.sql``: :func:`period_metrics_query`, which the pipeline runs
on Athena over the grid-metrics Lambda's outputs of a run (:func:`build_period_marts`; the input
staged by :mod:`glucosestream.elt.grid_stage`) and ``glucosestream metrics`` in-process over a
CSV's readings (:mod:`glucosestream.reports.metrics`). ``glycemic_episodes`` is the episodes of
the same patients (:func:`glucosestream.elt.grid_metrics.wall_clock_episodes`, as
``glucosestream episodes`` lists them) and ``patient_period_metrics_iglu`` their iglu profile
(:mod:`glucosestream.domain.metrics.iglu_profile`, as ``glucosestream metrics --profile iglu``).
"""

from __future__ import annotations

from glucosestream.elt.grid_stage import GRID_WORK_PREFIX, GridInput
from glucosestream.elt.marts import (
    GLUCOSE_RANGES_SQL,
    PERIOD_READINGS_SQL,
    days_between,
    mart_query,
    period_readings_query,
)
from glucosestream.elt.plan import EltReport
from glucosestream.elt.ports import Lake
from glucosestream.elt.publish import count_rows, delete_under, staging_location, unload_and_publish
from glucosestream.elt.tables import (
    EPISODES,
    GRID_EPISODES_STAGING,
    GRID_IGLU_STAGING,
    GRID_METRICS_STAGING,
    GRID_TABLES,
    PERIOD,
    PERIOD_IGLU,
)
from glucosestream.warehouse.sql_text import Statement, bind, compose, table_columns

SQL_METRICS_SQL = "marts/patient_period_metrics.sql"
JOIN_GRID_METRICS_SQL = "grid/patient_period_metrics.sql"
EPISODES_SQL = "grid/glycemic_episodes.sql"
IGLU_SQL = "grid/patient_period_metrics_iglu.sql"
PERIOD_SQL = (
    PERIOD_READINGS_SQL,
    GLUCOSE_RANGES_SQL,
    SQL_METRICS_SQL,
    JOIN_GRID_METRICS_SQL,
    EPISODES_SQL,
    IGLU_SQL,
)
"""The files :func:`build_period_marts` runs."""


def sql_metrics_query(database: str, readings: Statement | None = None) -> Statement:
    """The SQL metrics of ``sql/marts/patient_period_metrics.sql`` over ``readings`` as
    ``period_readings`` (None: over the table ``<database>.period_readings`` itself)."""
    return mart_query(database, SQL_METRICS_SQL, readings)


def period_metrics_query(
    database: str,
    run_id: str,
    readings: Statement | None = None,
    sql_metrics: Statement | None = None,
) -> Statement:
    """The rows of ``patient_period_metrics`` (its columns, in order): the SQL metrics of
    ``readings`` as ``period_readings`` (None: of the table ``<database>.period_readings``
    itself) joined with the grid metrics of the same patients, run ``run_id``'s partition of
    ``<database>.grid_metrics_staging``. ``sql_metrics``: those SQL metrics when already
    computed (:func:`sql_metrics_query`'s rows, e.g. a query of a table holding them)."""
    if sql_metrics is None:
        sql_metrics = sql_metrics_query(database, readings)
    return compose(
        bind(JOIN_GRID_METRICS_SQL, {"database": database}, {"run_id": [run_id]}),
        [("period_sql_metrics", sql_metrics)],
        database,
        table_columns(PERIOD).names,
    )


class GridMetricsMissing(RuntimeError):
    """Some patients of the window have no grid metrics: a chunk was not computed."""


def build_period_marts(lake: Lake, grid: GridInput, report: EltReport) -> None:
    """The period marts from the run's grid outputs (after every chunk was computed).

    The outputs become the staging tables' ``run_id=<run>`` partitions (published through the
    catalog from where the grid-metrics Lambda wrote them); ``patient_period_metrics`` is the
    SQL metrics joined with them and ``glycemic_episodes`` the episodes, each one Athena
    ``UNLOAD`` published as its ``period_end`` partition; then the staging partitions are
    dropped and the run's work objects deleted. Nothing is published when a patient of the
    window lacks grid metrics. Safe to repeat: an output already published is not looked for
    again where it was written.
    """
    end = grid.period_end.isoformat()
    partition = [(grid.run_id,)]
    for table, prefix in ((GRID_METRICS_STAGING, grid.metrics_prefix),
                          (GRID_EPISODES_STAGING, grid.episodes_prefix),
                          (GRID_IGLU_STAGING, grid.iglu_prefix)):  # fmt: skip
        if any(True for _ in lake.storage.list(prefix)):
            staged = prefix.removesuffix(f"run_id={grid.run_id}/")
            lake.catalog.publish(table, lake.storage.uri(staged), partition)
    computed = count_rows(lake, GRID_METRICS_STAGING, "run_id", [grid.run_id], None)
    if computed != grid.patients:
        raise GridMetricsMissing(
            f"run {grid.run_id}: {computed} of the window's {grid.patients} patients have grid "
            f"metrics under {lake.storage.uri(grid.metrics_prefix)}; period marts not published"
        )
    readings = period_readings_query(
        lake.database, days_between(grid.period_start, grid.period_end)
    )
    joined = period_metrics_query(lake.database, grid.run_id, readings)
    episodes = bind(EPISODES_SQL, {"database": lake.database}, {"run_id": [grid.run_id]})
    iglu = bind(IGLU_SQL, {"database": lake.database}, {"run_id": [grid.run_id]})
    for table, statement in ((PERIOD, joined), (EPISODES, episodes), (PERIOD_IGLU, iglu)):
        location = staging_location(lake, table, grid.run_id, 0)
        unload_and_publish(lake, table, statement, location, [(end,)])
    dropped = lake.storage.uri(f"{GRID_WORK_PREFIX}{grid.run_id}/dropped/")  # holds nothing
    for table in GRID_TABLES:
        lake.catalog.publish(table, dropped, partition)
    delete_under(lake, f"{GRID_WORK_PREFIX}{grid.run_id}/")
    report.period_end = end
    report.period_rows = count_rows(lake, PERIOD, "period_end", [end], "DATE")
    report.episode_rows = count_rows(lake, EPISODES, "period_end", [end], "DATE")
    report.iglu_rows = count_rows(lake, PERIOD_IGLU, "period_end", [end], "DATE")
