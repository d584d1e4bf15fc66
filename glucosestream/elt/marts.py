"""The SQL marts: ``patient_daily_metrics`` per LOCAL day and the period's ``agp_profile``.

Daily marts are recomputed for every local day that has a reading in a rebuilt ``dt`` (a local
day spans the UTC dates day - 1 .. day + 1, so those curated partitions are read), all patients
of that day: one UNLOAD per chunk of days of ``sql/marts/patient_daily_metrics.sql`` over
``sql/curated/period_readings.sql`` (through ``sql/intermediate/glucose_ranges.sql``, where the
consensus range thresholds are written once for both metrics marts), published. The AGP covers
the :data:`PERIOD_DAYS` local days ending at the run date, recomputed when the period is due
(:func:`period_due`); the period's other marts need the grid metrics
(:mod:`glucosestream.elt.period_metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from glucosestream.elt.plan import EltPlan, EltReport
from glucosestream.elt.ports import Lake
from glucosestream.elt.publish import chunks, count_rows, staging_location, unload_and_publish
from glucosestream.elt.tables import AGP, DAILY, PERIOD
from glucosestream.warehouse.sql_text import Statement, bind, compose, table_columns

PERIOD_DAYS = 14
"""The AGP window: 14 local days ending at the run date."""

PERIOD_READINGS_SQL = "curated/period_readings.sql"
GLUCOSE_RANGES_SQL = "intermediate/glucose_ranges.sql"
DAILY_SQL = "marts/patient_daily_metrics.sql"
AGP_SQL = "marts/agp_profile.sql"
MARTS_SQL = (PERIOD_READINGS_SQL, GLUCOSE_RANGES_SQL, DAILY_SQL, AGP_SQL)
"""The files :func:`build_marts` runs."""


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def period_days(end: date) -> list[date]:
    """The :data:`PERIOD_DAYS` local days ending at ``end``."""
    return days_between(end - timedelta(days=PERIOD_DAYS - 1), end)


def period_readings_query(database: str, days: Sequence[date]) -> Statement:
    """``sql/curated/period_readings.sql``: the metric readings of these LOCAL days (the curated
    partitions day - 1 .. day + 1 read)."""
    dts = sorted(
        {(day + timedelta(days=shift)).isoformat() for day in days for shift in (-1, 0, 1)}
    )
    return bind(
        PERIOD_READINGS_SQL,
        {"database": database},
        {"partitions": dts, "local_days": sorted(days)},
    )


def glucose_ranges_query(database: str, readings: Statement | None = None) -> Statement:
    """``sql/intermediate/glucose_ranges.sql`` over ``readings`` as its ``period_readings``
    (None: over the table ``<database>.period_readings`` itself)."""
    ranges = bind(GLUCOSE_RANGES_SQL, {"database": database})
    return compose(ranges, _period_readings_cte(readings), database)


def mart_query(
    database: str,
    mart: str,
    readings: Statement | None = None,
    columns: Sequence[str] | None = None,
) -> Statement:
    """A ``sql/marts/`` file over ``readings`` as its ``period_readings`` (None: over the table
    ``<database>.period_readings`` itself). A mart that reads ``<database>.glucose_ranges`` (the
    metrics marts) reads the readings through :func:`glucose_ranges_query`."""
    main = bind(mart, {"database": database})
    if f"{database}.glucose_ranges" in main.sql:
        ranges = [("glucose_ranges", glucose_ranges_query(database, readings))]
        return compose(main, ranges, database, columns)
    return compose(main, _period_readings_cte(readings), database, columns)


def _period_readings_cte(readings: Statement | None) -> list[tuple[str, Statement]]:
    """``readings`` as the CTE ``period_readings`` (none: the table is read)."""
    return [] if readings is None else [("period_readings", readings)]


def _daily(lake: Lake, plan: EltPlan, days: list[date], report: EltReport) -> None:
    isos = [day.isoformat() for day in days]
    for index, chunk in enumerate(chunks(isos)):
        readings = period_readings_query(lake.database, [date.fromisoformat(d) for d in chunk])
        query = mart_query(lake.database, DAILY_SQL, readings, table_columns(DAILY).names)
        location = staging_location(lake, DAILY, plan.run_id, index)
        unload_and_publish(lake, DAILY, query, location, [(day,) for day in chunk])
        report.daily_rows += count_rows(lake, DAILY, "local_day", chunk, "DATE")
    report.daily_days = isos


def _agp(lake: Lake, plan: EltPlan, end: date, report: EltReport) -> None:
    readings = period_readings_query(lake.database, period_days(end))
    columns = [name for name, _ in table_columns(AGP).columns]
    agp = mart_query(lake.database, AGP_SQL, readings, columns)
    location = staging_location(lake, AGP, plan.run_id, 0)
    unload_and_publish(lake, AGP, agp, location, [(end.isoformat(),)], one_partition=True)
    report.period_end = end.isoformat()
    report.agp_rows = count_rows(lake, AGP, "period_end", [end.isoformat()], "DATE")


def period_due(lake: Lake, plan: EltPlan, local_days: Sequence[date]) -> date | None:
    """The run date when the period marts must be recomputed: a rebuilt local day falls in the
    window, the partition has no rows yet, or the run is a full refresh; else None."""
    if plan.run_date is None:
        return None
    window = set(period_days(plan.run_date))
    missing = count_rows(lake, PERIOD, "period_end", [plan.run_date.isoformat()], "DATE") == 0
    if window.intersection(local_days) or missing or plan.full_refresh:
        return plan.run_date
    return None


def build_marts(
    lake: Lake, plan: EltPlan, local_days: Sequence[date], report: EltReport
) -> date | None:
    """The daily marts of ``local_days`` and, when the period is due (:func:`period_due`), the
    AGP of the period; returns the period's end then (its grid metrics come next), else None."""
    days = sorted(local_days)
    if days:
        _daily(lake, plan, days, report)
    end = period_due(lake, plan, days)
    if end is not None:
        _agp(lake, plan, end, report)
    return end
