"""The grid metrics of the period marts, in-process (numpy): local mode's implementation of
:class:`glucosestream.elt.GridMetrics`, the computation ``glucosestream metrics`` and
``glucosestream episodes`` run (:mod:`glucosestream.metrics_report`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from glucosestream.domain.metrics import episodes
from glucosestream.elt import EPISODES, PERIOD
from glucosestream.local.athena import LocalAthena
from glucosestream.metrics_report import METRIC_COLUMNS, grid_metrics, local_series
from glucosestream.sql_text import Statement, athena_literal

if TYPE_CHECKING:
    from glucosestream.elt import Lake

Series = dict[str, tuple[np.ndarray, np.ndarray]]
"""Each patient's (local wall-clock epoch ms, glucose), as :func:`local_series` gives them."""


class InProcessGridMetrics:
    """Reads the period's readings into the local engine as ``period_readings`` and computes
    each patient's grid metrics and episodes with :mod:`glucosestream.domain.metrics`."""

    def __init__(self, athena: LocalAthena) -> None:
        self.athena = athena

    def _arrow(self, statement: Statement) -> pa.Table:
        response = self.athena.start_query_execution(
            statement.sql,
            [athena_literal(value) for value in statement.parameters],
            location_of=lambda uri: None,  # type: ignore[arg-type,return-value]  # no UNLOAD here
        )
        table: pa.Table = self.athena.results.pop(response["QueryExecution"]["QueryExecutionId"])
        return table

    def build_period_marts(
        self, lake: Lake, readings: Statement, sql_metrics: Statement, start: date, end: date
    ) -> tuple[int, int]:
        self.athena.register("period_readings", self._arrow(readings))
        series = local_series(self.athena)
        partition = [(end.isoformat(),)]
        periods = period_metrics_table(self._arrow(sql_metrics).to_pylist(), series, start, end)
        self.athena.write_arrow(PERIOD, self._typed(PERIOD, periods), replace=partition)
        found = episodes_table(series, end)
        self.athena.write_arrow(EPISODES, self._typed(EPISODES, found), replace=partition)
        return periods.num_rows, found.num_rows

    def _typed(self, table: str, data: pa.Table) -> pa.Table:
        """An empty result as the table's columns (so that writing it is a typed no-op)."""
        if data.num_rows:
            return data
        lake = self.athena.lake_tables[table]
        columns = [name for name, _ in (*lake.columns, *lake.partitioned_by)]
        return pa.table({name: pa.array([], pa.string()) for name in columns})


def period_metrics_table(
    sql_rows: list[dict[str, object]], series: Series, start: date, end: date
) -> pa.Table:
    """``patient_period_metrics`` rows: the SQL mart's + the grid metrics of each patient."""
    rows = []
    for row in sql_rows:
        patient = str(row["patient_id"])
        merged = {**row, **grid_metrics(*series[patient])}
        rows.append(
            {
                "patient_id": patient,
                "period_start": start,
                **{column: merged[column] for column in METRIC_COLUMNS[1:]},
                "period_end": end,
            }
        )
    if not rows:
        return pa.table({"patient_id": pa.array([], pa.string())})
    return pa.Table.from_pylist(rows)


def _naive(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def episodes_table(series: Series, end: date) -> pa.Table:
    """One row per glycaemic episode of each patient's readings (local grid instants)."""
    rows = []
    for patient, (times, glucose) in series.items():
        for e in episodes(times, glucose).episodes:
            rows.append(
                {
                    "patient_id": patient,
                    "type": e.kind,
                    "level": e.level,
                    "start_local": _naive(e.start_ms),
                    "end_local": _naive(e.end_ms),
                    "duration_min": int(e.duration_min),
                    "extreme_mg_dl": float(e.extreme_mg_dl),
                    "mean_mg_dl": float(e.mean_mg_dl),
                    "exclusive": bool(e.exclusive),
                    "period_end": end,
                }
            )
    if not rows:
        return pa.table({"patient_id": pa.array([], pa.string())})
    return pa.Table.from_pylist(rows)
