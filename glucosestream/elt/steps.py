"""The ELT pipeline's steps, as the Step Functions state machine ``sfn/pipeline.asl.json`` runs
them: plan → (Athena: unload the curated partitions) → publish → data quality → (gate) → marts
(daily, AGP) → [when the period is due: stage the grid input → (Distributed Map: the
grid-metrics Lambda per chunk) → period marts] → commit → record the run.

The curated rebuild is SQL only, so the state machine runs it directly as Athena
``startQueryExecution.sync`` tasks (one ``UNLOAD`` per chunk of partitions, composed by
:func:`glucosestream.elt.curate.curate_queries` in the plan step). The other steps are functions
of the pipeline state (JSON in, JSON out), each a separate invocation of one Lambda
(``consumers/pipeline/handler.py``, dispatching on ``step``); locally the same handler runs
in-process under :mod:`glucosestream.local.stepfunctions` and the Athena tasks run in DuckDB. A
failing gate stops the run before the marts: previously published marts stay as they were, and
the raw files are not committed, so the next run looks at the same partitions again.

The ASL names the SQL files each step runs (``sql`` in the task parameters); a step refuses to
run when they differ from the files its code runs, so the two cannot drift apart silently.

Every step works through a :class:`~glucosestream.elt.ports.Lake` (storage, query engine,
catalog, grid metrics) that the pipeline Lambda's composition root builds for its mode; nothing here
imports the local runtime, DuckDB or sqlglot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from glucosestream.elt.curate import CURATE_SQL, curate_queries, publish_curated
from glucosestream.elt.grid_stage import (
    PATIENTS_PER_CHUNK,
    STAGE_GRID_SQL,
    GridInput,
    stage_grid_input,
)
from glucosestream.elt.marts import MARTS_SQL, build_marts
from glucosestream.elt.period_metrics import PERIOD_SQL, build_period_marts
from glucosestream.elt.plan import EltPlan, EltReport, commit, plan_run
from glucosestream.elt.ports import Lake
from glucosestream.elt.quality import dq_sql_files, gate, run_checks, write_dq_results
from glucosestream.elt.tables import TABLES, table_prefix

Step = Callable[[Lake, dict[str, Any]], dict[str, Any]]

PIPELINE_RUNS = "pipeline_runs"


def _plan(state: dict[str, Any]) -> EltPlan:
    return EltPlan.from_dict(state["plan"])


class SqlDrift(ValueError):
    """The SQL files the state machine declares for a step are not the ones its code runs."""


def _expect_sql(state: dict[str, Any], step: str, runs: Sequence[str]) -> None:
    declared = state.get("sql")
    if declared is not None and sorted(declared) != sorted(runs):
        raise SqlDrift(
            f"step {step!r}: the state machine declares SQL {sorted(declared)} but the code runs "
            f"{sorted(runs)}; update sfn/pipeline.asl.json"
        )


def step_plan(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    """Which raw ``dt`` partitions changed since the last committed run, and the Athena
    statements that rebuild their curated partitions."""
    _expect_sql(state, "plan", CURATE_SQL)
    # Superseded versions past their retention, from earlier runs: never what a run in progress
    # or a reader may still use (docs/adr/0004-atomic-publish.md).
    vacuumed = sum(len(lake.catalog.vacuum(table)) for table in TABLES)
    run_date = state.get("run_date")
    plan = plan_run(
        lake,
        date.fromisoformat(run_date) if run_date else None,
        full_refresh=bool(state.get("full_refresh", False)),
        run_id=state.get("run_id"),
    )
    return {
        **plan.as_dict(),
        "curate_queries": curate_queries(lake, plan),
        "started_at": datetime.now(UTC).isoformat(),
        "vacuumed_prefixes": vacuumed,
    }


def step_publish(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    """Swap the unloaded curated partitions in (after every Athena statement succeeded)."""
    plan = _plan(state)
    report = EltReport(run_date=plan.run_date)
    local_days = publish_curated(lake, plan, state["plan"]["curate_queries"], report)
    return {
        "local_days": [day.isoformat() for day in local_days],
        "raw_rows": report.raw_rows,
        "curated_rows": report.curated_rows,
        "curated_partitions": report.curated_partitions,
        "treatment_partitions": report.treatment_partitions,
        "treatment_rows": report.treatment_rows,
    }


def step_quality(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    _expect_sql(state, "quality", dq_sql_files())
    plan = _plan(state)
    # "Now" for the future-timestamp check: the wall clock, unless the run says otherwise (the
    # demo's simulated clock runs ahead of it).
    as_of = datetime.fromisoformat(state["as_of"]) if state.get("as_of") else None
    started = state["plan"].get("started_at")
    results = run_checks(
        lake,
        plan.partitions,
        run_date=plan.run_date,
        as_of=as_of,
        planned_at=datetime.fromisoformat(started) if started else None,
    )
    write_dq_results(lake, results, plan.run_id, run_date=plan.run_date)
    return {
        "passed": gate(results),
        "failed": [
            {"check": r.check, "failing": r.failing_count, "sample": list(r.sample)}
            for r in results
            if r.status == "FAIL"
        ],
        "warnings": [r.check for r in results if r.status == "WARN"],
        "checks": len(results),
    }


def step_marts(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    """The daily marts and the AGP; ``period_end`` is null when the period is not due (the
    state machine then skips the grid metrics and the period marts)."""
    _expect_sql(state, "marts", MARTS_SQL)
    plan = _plan(state)
    report = EltReport(run_date=plan.run_date)
    days = [date.fromisoformat(day) for day in state["curate"]["local_days"]]
    build_marts(lake, plan, days, report)
    values = report.as_dict()
    return {key: values[key] for key in ("daily_days", "daily_rows", "period_end", "agp_rows")}


def step_stage(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    """Unload the period's readings in chunks of patients: the Distributed Map's input
    (``$.grid``; ``patients_per_chunk`` in the execution input overrides the chunk size)."""
    _expect_sql(state, "stage", STAGE_GRID_SQL)
    plan = _plan(state)
    end = date.fromisoformat(state["marts"]["period_end"])
    per_chunk = int(state.get("patients_per_chunk") or PATIENTS_PER_CHUNK)
    return stage_grid_input(lake, plan, end, per_chunk).as_dict()


def step_period(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    """Join the Distributed Map's outputs with the SQL metrics: the period marts."""
    _expect_sql(state, "period", PERIOD_SQL)
    report = EltReport(run_date=_plan(state).run_date)
    build_period_marts(lake, GridInput.from_dict(state["grid"]), report)
    return {"period_end": report.period_end, "period_rows": report.period_rows,
            "episode_rows": report.episode_rows, "iglu_rows": report.iglu_rows}  # fmt: skip


def step_commit(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    commit(lake, _plan(state))
    return {"committed": True}


def step_record(lake: Lake, state: dict[str, Any]) -> dict[str, Any]:
    """One row in the ``pipeline_runs`` mart (also for runs the gate stopped)."""
    plan = _plan(state)
    status = str(state.get("status", "SUCCEEDED"))
    quality = state.get("quality") or {}
    curated = state.get("curate") or {}
    row = {
        "run_id": plan.run_id,
        "run_date": plan.run_date.isoformat() if plan.run_date else None,
        "status": status,
        "started_at": state["plan"].get("started_at"),
        "finished_at": datetime.now(UTC).isoformat(),
        "partitions": ",".join(plan.partitions),
        "raw_files_new": plan.raw_files_new,
        "curated_rows": int(curated.get("curated_rows", 0)),
        "dq_failed": ",".join(f["check"] for f in quality.get("failed", [])),
        "dq_warnings": ",".join(quality.get("warnings", [])),
    }
    import pyarrow as pa  # one Parquet row, written only here

    from glucosestream.lake.raw_zone.files import parquet_bytes

    key = (
        f"{table_prefix(lake.names, PIPELINE_RUNS)}run_date={row['run_date']}/{plan.run_id}.parquet"
    )
    # Snappy: pyarrow's default, which this row was always written with.
    lake.storage.write_bytes(key, parquet_bytes(pa.Table.from_pylist([row]), compression="snappy"))
    return {"status": status, "run_id": plan.run_id}


STEPS: dict[str, Step] = {
    "plan": step_plan,
    "publish": step_publish,
    "quality": step_quality,
    "marts": step_marts,
    "stage": step_stage,
    "period": step_period,
    "commit": step_commit,
    "record": step_record,
}
"""Every step the state machine invokes (a test checks the ASL names exactly these)."""


def run_step(lake: Lake, event: dict[str, Any]) -> dict[str, Any]:
    step = event.get("step")
    if step not in STEPS:
        raise ValueError(f"unknown pipeline step {step!r} (known: {', '.join(STEPS)})")
    state = dict(event.get("state") or {})
    if "status" in event:  # the record step is told how the run ended
        state["status"] = event["status"]
    if "sql" in event:
        state["sql"] = event["sql"]
    return STEPS[step](lake, state)
