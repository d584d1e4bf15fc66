"""The dashboard's one query adapter: every read of the lake goes through :class:`LakeQueries`.

Each query is written once, in Athena (Trino) SQL with ``?`` placeholders, and runs on either
engine:

* :class:`DuckDbEngine` (local mode) — the same transpile-at-run-time path as the ELT
  (:mod:`glucosestream.local.athena`): lake tables are views over the partitions the query
  needs, values go to DuckDB as bound parameters.
* :class:`AthenaEngine` (aws mode) — the Athena adapter
  (:class:`~glucosestream.adapters.athena.AthenaQueryEngine`: ``ExecutionParameters``, polling
  with backoff, paged results).

User input (patient ids, dates) only ever travels as parameters; the SQL text holds nothing but
the database name, which :func:`~glucosestream.local.athena.render` checks is an identifier.
Results are column dictionaries (``{column: [values…]}``), the shape ``ColumnDataSource`` takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from glucosestream.adapters.athena import AthenaQueryEngine, Backoff
from glucosestream.adapters.athena import athena_literal as athena_literal  # its old home
from glucosestream.elt.marts import PERIOD_DAYS
from glucosestream.elt.tables import AGP, CURATED, EPISODES, PERIOD, PERIOD_IGLU
from glucosestream.settings import Settings
from glucosestream.warehouse.query_engine import Columns as Columns  # the views import it from here
from glucosestream.warehouse.query_engine import Parameter, QueryFailed
from glucosestream.warehouse.sql_text import render


class QueryError(RuntimeError):
    """A dashboard query failed; the message is safe to show (no data values in it)."""


@dataclass(frozen=True, slots=True)
class Query:
    """One parameterised query over lake tables (Athena SQL, ``${database}`` templated)."""

    name: str
    sql: str
    tables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scan:
    """Which partitions of which table a query reads (partition pruning for the local engine;
    on Athena the query's own predicates on the partition key prune the registered partitions)."""

    partitions: Mapping[str, Sequence[tuple[str, ...]]] = field(default_factory=dict)


class QueryEngine(Protocol):
    def run(self, query: Query, parameters: Sequence[Parameter], scan: Scan) -> Columns: ...


# --------------------------------------------------------------------------------- the queries

PERIODS = Query(
    "periods",
    "SELECT DISTINCT period_end FROM ${database}.patient_period_metrics ORDER BY period_end DESC",
    (PERIOD,),
)

PATIENT_PERIODS = Query(
    "patient_periods",
    "SELECT period_end FROM ${database}.patient_period_metrics WHERE patient_id = ? "
    "ORDER BY period_end DESC",
    (PERIOD,),
)

_PERIOD_COLUMNS = (
    "patient_id, period_start, period_end, n_readings, days, active_percent, mean, sd, cv, gmi, "
    "tbr_54, tbr_70, tir_70_180, tar_180, tar_250, hypo_lv1_episodes, hypo_lv2_episodes, "
    "hyper_lv1_episodes, hyper_lv2_episodes"
)

PATIENT_PERIOD = Query(
    "patient_period",
    f"SELECT {_PERIOD_COLUMNS} FROM ${{database}}.patient_period_metrics "  # noqa: S608
    "WHERE patient_id = ? AND period_end = ?",
    (PERIOD,),
)

COHORT = Query(
    "cohort",
    # The previous period is the 14 days just before this one (not the overlapping window of the
    # day before), so "TIR fell" compares two disjoint fortnights.
    "SELECT c.patient_id, c.period_start, c.period_end, c.n_readings, c.days, "
    "c.active_percent, c.mean, c.cv, c.gmi, c.tbr_54, c.tbr_70, c.tir_70_180, c.tar_180, "
    "c.tar_250, c.hypo_lv2_episodes, p.tir_70_180 AS previous_tir "
    "FROM ${database}.patient_period_metrics AS c "
    "LEFT JOIN ${database}.patient_period_metrics AS p "
    "ON p.patient_id = c.patient_id AND p.period_end = ? "
    "WHERE c.period_end = ? ORDER BY c.patient_id",
    (PERIOD,),
)

AGP_PROFILE = Query(
    "agp_profile",
    "SELECT slot, slot_start, n_readings, p05, p25, p50, p75, p95 FROM ${database}.agp_profile "
    "WHERE patient_id = ? AND period_end = ? ORDER BY slot",
    (AGP,),
)

PATIENT_EPISODES = Query(
    "glycemic_episodes",
    "SELECT type, level, start_local, end_local, duration_min, extreme_mg_dl, mean_mg_dl "
    "FROM ${database}.glycemic_episodes WHERE patient_id = ? AND period_end = ? "
    "ORDER BY start_local",
    (EPISODES,),
)

PATIENT_IGLU = Query(
    "patient_period_metrics_iglu",
    "SELECT metric, value FROM ${database}.patient_period_metrics_iglu "
    "WHERE patient_id = ? AND period_end = ? ORDER BY metric",
    (PERIOD_IGLU,),
)

DAILY_READINGS = Query(
    "daily_readings",
    # dt (UTC date) bounds prune partitions; the local-day bounds select the patient's days.
    "SELECT local_time, glucose_mg_dl FROM ${database}.curated_readings "
    "WHERE patient_id = ? AND dt BETWEEN ? AND ? AND counts_in_metrics "
    "AND local_time >= ? AND local_time < ? ORDER BY local_time",
    (CURATED,),
)


# ------------------------------------------------------------------------------------ engines


class AthenaEngine:
    """The AWS engine: Athena over the Glue tables (predicates on the partition keys prune the
    registered partitions of curated and marts, projection those of raw), through the
    query-engine adapter (:class:`~glucosestream.adapters.athena.AthenaQueryEngine`)."""

    def __init__(
        self,
        client: Any,
        settings: Settings,
        *,
        poll_s: float = 0.25,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = AthenaQueryEngine(
            client,
            database=settings.names.glue_database,
            workgroup=settings.names.athena_workgroup,
            timeout_s=timeout_s,
            poll=Backoff(first_s=poll_s, factor=2.0, cap_s=max(poll_s, 2.0)),
            sleep=sleep,
        )

    def run(self, query: Query, parameters: Sequence[Parameter], scan: Scan) -> Columns:
        sql = render(query.sql, {"database": self.engine.database})
        try:
            return self.engine.execute(sql, parameters).columns
        except QueryFailed as error:
            raise QueryError(
                f"{query.name}: Athena query {error.state.lower()}: {error.reason}"
            ) from error


# ------------------------------------------------------------------------------------ the facade


def _dts(first: date, last: date) -> list[tuple[str, ...]]:
    return [((first + timedelta(days=n)).isoformat(),) for n in range((last - first).days + 1)]


class LakeQueries:
    """The dashboard's reads, typed; the one place that knows which query answers what."""

    def __init__(self, engine: QueryEngine) -> None:
        self.engine = engine

    def periods(self) -> list[date]:
        """Every ``period_end`` with period metrics, newest first."""
        return list(self.engine.run(PERIODS, [], Scan()).get("period_end", []))

    def patient_periods(self, patient_id: str) -> list[date]:
        found = self.engine.run(PATIENT_PERIODS, [patient_id], Scan())
        return list(found.get("period_end", []))

    def cohort(self, period_end: date) -> Columns:
        """Every patient's metrics for the period, with the TIR of the previous fortnight."""
        previous = period_end - timedelta(days=PERIOD_DAYS)
        scan = Scan({PERIOD: [(previous.isoformat(),), (period_end.isoformat(),)]})
        return self.engine.run(COHORT, [previous, period_end], scan)

    def patient_period(self, patient_id: str, period_end: date) -> dict[str, Any] | None:
        scan = Scan({PERIOD: [(period_end.isoformat(),)]})
        found = self.engine.run(PATIENT_PERIOD, [patient_id, period_end], scan)
        if not found.get("patient_id"):
            return None
        return {name: values[0] for name, values in found.items()}

    def agp(self, patient_id: str, period_end: date) -> Columns:
        scan = Scan({AGP: [(period_end.isoformat(),)]})
        return self.engine.run(AGP_PROFILE, [patient_id, period_end], scan)

    def episodes(self, patient_id: str, period_end: date) -> Columns:
        scan = Scan({EPISODES: [(period_end.isoformat(),)]})
        return self.engine.run(PATIENT_EPISODES, [patient_id, period_end], scan)

    def iglu_metrics(self, patient_id: str, period_end: date) -> Columns:
        """The patient's iglu profile for the period (``metric``, ``value``)."""
        scan = Scan({PERIOD_IGLU: [(period_end.isoformat(),)]})
        return self.engine.run(PATIENT_IGLU, [patient_id, period_end], scan)

    def daily_readings(self, patient_id: str, first_day: date, last_day: date) -> Columns:
        """Metric readings (local time, mg/dL) of the patient's LOCAL days first..last."""
        # A local day spans UTC dates day - 1 .. day + 1 (offsets are within ±14 h).
        first_dt, last_dt = first_day - timedelta(days=1), last_day + timedelta(days=1)
        scan = Scan({CURATED: _dts(first_dt, last_dt)})
        start = datetime.combine(first_day, datetime.min.time())
        end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
        parameters: list[Parameter] = [
            patient_id,
            first_dt.isoformat(),
            last_dt.isoformat(),
            start,
            end,
        ]
        return self.engine.run(DAILY_READINGS, parameters, scan)
