"""The incremental ELT: raw zone → curated readings → marts, through the lake's ports.

Everything goes through a :class:`~glucosestream.elt.ports.Lake`: the lake storage (objects by
key: S3 in aws mode, a directory locally), the query engine (Athena in aws mode, DuckDB locally),
the table catalog (which files each partition is: Glue partitions in aws mode, directories
locally) and the grid metrics. The composition roots choose them
(:func:`glucosestream.local.lake.local_lake`, ``consumers/pipeline/handler.py``); nothing here
imports the local runtime, DuckDB or sqlglot.

One copy of every query: the Athena SQL in ``sql/``, run as complete Athena statements with the
run's values as ExecutionParameters (:mod:`glucosestream.warehouse.sql_text` composes the files by
text).

A run (:func:`run_elt`) is the steps of these modules, in order:

1. **Find what changed** (:mod:`glucosestream.elt.plan`). It lists
   ``raw/readings/dt=*/hour=*/*.parquet`` (names and sizes only; Firehose never rewrites a file)
   and compares the listing with the state of the last successful run,
   ``pipeline_state/elt.json`` (every raw file processed, per ``dt``). The ``dt`` partitions
   with a new (or changed, or vanished) file are the ones to rebuild; ``full_refresh`` rebuilds
   all. Listing is the only step that looks at all of history and it reads no data.
2. **Curated** (:mod:`glucosestream.elt.curate`). Each changed ``dt`` of ``curated/readings/``
   is rebuilt from ALL raw files of that ``dt``, at most ``lake.curate_partitions_per_query``
   partitions per statement (Athena: 100, its limit per UNLOAD/CTAS; the local lake: a few
   days, which DuckDB sorts in memory). Partitions stay in UTC (DESIGN §5): a late reading lands
   in its event-time ``dt`` and only that ``dt`` is rebuilt. Each statement unloads into a
   staging prefix beside the table; the new partitions are published through the catalog only
   after every statement succeeded (:mod:`glucosestream.elt.publish`), so a failing query
   leaves the old partitions in place.
3. **Daily marts** (:mod:`glucosestream.elt.marts`). ``patient_daily_metrics`` is recomputed
   for every LOCAL day that has a reading in a rebuilt ``dt``, all patients of that day.
4. **Period marts.** For the 14 LOCAL days ending at the run date (``run_date``; by default the
   newest raw ``dt``), ``patient_period_metrics`` (the SQL of ``sql/marts/`` plus the grid
   metrics, as ``glucosestream metrics`` computes them), ``agp_profile`` and ``glycemic_episodes``
   (as ``glucosestream episodes``) are recomputed for every patient with readings in the window
   and their ``period_end=<run date>`` partitions replaced. They are skipped when no rebuilt day
   falls in the window and the partition has rows. ``agp_profile`` is SQL and built with the
   daily marts; the other two need the grid metrics, computed in three steps (the states the
   pipeline runs, ``docs/adr/0003-grid-metrics-on-aws.md``): the window's readings staged in
   chunks of patients (:mod:`glucosestream.elt.grid_stage`), the grid metrics of each chunk
   (:func:`glucosestream.elt.grid_batch.run_batch`: the grid-metrics Lambda under a Step
   Functions Distributed Map; :class:`~glucosestream.elt.ports.GridMetrics` runs the same
   batches outside the state machine), and the outputs joined with the SQL metrics in Athena
   and published (:mod:`glucosestream.elt.period_metrics`).
5. **State.** Only then is the new raw listing saved (:func:`glucosestream.elt.plan.commit`): a
   run that fails anywhere is simply repeated by the next one, and repeating a run gives the
   same partitions.

The cost of an incremental run grows with the new data (the rebuilt ``dt`` partitions, their
local days, and the fixed 14-day window), not with the length of history.
"""

from __future__ import annotations

import time
from datetime import date

from glucosestream.elt.curate import curate
from glucosestream.elt.grid_stage import PATIENTS_PER_CHUNK, stage_grid_input
from glucosestream.elt.marts import build_marts
from glucosestream.elt.period_metrics import build_period_marts
from glucosestream.elt.plan import EltReport, commit, plan_run
from glucosestream.elt.ports import Lake


def run_elt(
    lake: Lake,
    run_date: date | None = None,
    *,
    full_refresh: bool = False,
    patients_per_chunk: int = PATIENTS_PER_CHUNK,
) -> EltReport:
    """One incremental ELT run (see the module docstring): plan, curate, marts, grid metrics,
    period marts, commit — the steps the pipeline runs one by one with the data-quality gate
    between curate and marts (and the grid metrics as its Distributed Map).

    Parameters
    ----------
    lake
        The ports (a composition root builds them: :func:`glucosestream.local.lake.local_lake`).
    run_date
        The last LOCAL day of the 14-day period marts; by default the newest raw ``dt``.
    full_refresh
        Rebuild every raw ``dt`` (and every local day), ignoring the saved state.
    patients_per_chunk
        The grid metrics' chunk size
        (:data:`~glucosestream.elt.grid_stage.PATIENTS_PER_CHUNK`).
    """
    started = time.perf_counter()
    plan = plan_run(lake, run_date, full_refresh=full_refresh)
    report = EltReport(run_date=plan.run_date, raw_files_new=plan.raw_files_new)
    step = _StepClock(report, started)
    step.done("plan")
    local_days = curate(lake, plan, report)
    step.done("curate")
    end = build_marts(lake, plan, local_days, report)
    step.done("marts")
    if end is not None:
        grid = stage_grid_input(lake, plan, end, patients_per_chunk)
        step.done("grid_stage")
        lake.grid.compute(lake.storage, grid)
        step.done("grid_metrics")
        build_period_marts(lake, grid, report)
        step.done("period_marts")
    commit(lake, plan)
    step.done("commit")
    return report


class _StepClock:
    """Records each step's wall time in the report (where a run's time goes, at any scale)."""

    def __init__(self, report: EltReport, started: float) -> None:
        self.report = report
        self.last = started

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.report.step_seconds[step] = now - self.last
        self.last = now
