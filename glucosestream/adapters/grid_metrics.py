"""The grid metrics of the period marts on AWS: a placeholder until the grid-metrics Lambda
(a Step Functions Distributed Map over chunks of patients) is wired into the pipeline."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glucosestream.elt import Lake
    from glucosestream.sql_text import Statement


class GridMetricsUnavailable(RuntimeError):
    """The period marts cannot be built in aws mode yet."""


class DistributedGridMetrics:
    """Refuses, with one line saying why: the numpy computation does not ship in the pipeline
    Lambda's artefact, and its AWS replacement (the grid-metrics Lambda) is not wired yet."""

    def build_period_marts(
        self, lake: Lake, readings: Statement, sql_metrics: Statement, start: date, end: date
    ) -> tuple[int, int]:
        raise GridMetricsUnavailable(
            f"period marts ending {end}: the grid metrics run in the grid-metrics Lambda "
            "(Distributed Map), which this pipeline does not invoke yet"
        )
