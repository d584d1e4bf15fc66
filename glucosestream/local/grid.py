"""The grid metrics of the period marts, in-process (numpy): local mode's implementation of
:class:`glucosestream.elt.GridMetrics`, the computation ``glucosestream metrics`` and
``glucosestream episodes`` run (:mod:`glucosestream.metrics_report`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa

from glucosestream.elt import EPISODES, PERIOD
from glucosestream.grid_metrics import GRID_COLUMNS, grid_tables
from glucosestream.local.athena import LocalAthena
from glucosestream.metrics_report import METRIC_COLUMNS
from glucosestream.sql_text import Statement, athena_literal

if TYPE_CHECKING:
    from glucosestream.elt import Lake


class InProcessGridMetrics:
    """Reads the period's readings in the local engine and computes each patient's grid metrics
    and episodes with :func:`glucosestream.grid_metrics.grid_tables` — the function the
    grid-metrics Lambda runs per chunk in aws mode — over all patients at once."""

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
        grid = grid_tables(self._arrow(readings), start, end)
        partition = [(end.isoformat(),)]
        periods = period_metrics_table(self._arrow(sql_metrics).to_pylist(), grid.metrics)
        self.athena.write_arrow(PERIOD, self._typed(PERIOD, periods), replace=partition)
        self.athena.write_arrow(EPISODES, self._typed(EPISODES, grid.episodes), replace=partition)
        return periods.num_rows, grid.episodes.num_rows

    def _typed(self, table: str, data: pa.Table) -> pa.Table:
        """An empty result as the table's columns (so that writing it is a typed no-op)."""
        if data.num_rows:
            return data
        lake = self.athena.lake_tables[table]
        columns = [name for name, _ in (*lake.columns, *lake.partitioned_by)]
        return pa.table({name: pa.array([], pa.string()) for name in columns})


def period_metrics_table(sql_rows: list[dict[str, object]], grid: pa.Table) -> pa.Table:
    """``patient_period_metrics`` rows: the SQL mart's row of each patient joined with its grid
    metrics (one row per patient in ``grid``, with ``period_start`` and ``period_end``)."""
    by_patient = {row["patient_id"]: row for row in grid.to_pylist()}
    rows = []
    for row in sql_rows:
        patient = str(row["patient_id"])
        merged = {**row, **by_patient[patient]}
        rows.append(
            {
                "patient_id": patient,
                "period_start": merged["period_start"],
                **{column: merged[column] for column in METRIC_COLUMNS[1:]},
                "period_end": merged["period_end"],
            }
        )
    if not rows:
        return pa.table({"patient_id": pa.array([], pa.string())})
    assert set(GRID_COLUMNS) <= set(METRIC_COLUMNS)
    return pa.Table.from_pylist(rows)
