"""The grid metrics' input: the period's readings staged in chunks of patients.

The period marts need the grid metrics (``docs/adr/0003-grid-metrics-on-aws.md``), computed in
three steps, the states the pipeline runs: :func:`stage_grid_input` unloads the window's
readings partitioned by a hash bucket of the patient (``chunk=<n>/``, ~1,000 patients a chunk);
the grid metrics of each chunk are computed by :func:`glucosestream.elt.grid_batch.run_batch`
(the grid-metrics Lambda under a Step Functions Distributed Map;
:class:`~glucosestream.elt.ports.GridMetrics` runs the same batches outside the state machine);
and :func:`glucosestream.elt.period_metrics.build_period_marts` joins the outputs with the SQL
metrics in Athena and publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

from glucosestream.elt.marts import (
    PERIOD_DAYS,
    PERIOD_READINGS_SQL,
    days_between,
    period_days,
    period_readings_query,
)
from glucosestream.elt.plan import EltPlan
from glucosestream.elt.ports import Lake
from glucosestream.elt.publish import chunks, delete_under, run_token
from glucosestream.elt.tables import GRID_EPISODES_STAGING, GRID_IGLU_STAGING, GRID_METRICS_STAGING
from glucosestream.warehouse.sql_text import (
    SqlError,
    Statement,
    bind,
    compose,
    constants_cte,
    unload,
)

PATIENTS_PER_CHUNK = 1000
"""Patients a grid-metrics chunk holds (on average): ~40 MB of Parquet, ~13 s of one Lambda
(docs/adr/0003-grid-metrics-on-aws.md)."""
GRID_WORK_PREFIX = "work/grid/"
"""Where the grid metrics of a run work: ``<prefix><run>/input/`` (the staged chunks) and
``<prefix><run>/output/`` (what the grid-metrics Lambda writes); Terraform's grid_work_prefix."""
GRID_INPUT_COLUMNS = ("patient_id", "device_id", "measured_at", "local_time", "glucose_mg_dl",
                      "chunk")  # fmt: skip
"""The columns of ``sql/grid/grid_input.sql``: the readings the grid metrics read, then the
chunk (the staging UNLOAD's partition column)."""

GRID_INPUT_SQL = "grid/grid_input.sql"
STAGE_GRID_SQL = (PERIOD_READINGS_SQL, GRID_INPUT_SQL)
"""The files :func:`stage_grid_input` runs."""


@dataclass(frozen=True)
class GridInput:
    """The grid metrics of one run's period, as the state machine passes them (``$.grid``): the
    staged chunks (``input_prefix``), where each chunk's outputs go (the run's partitions of
    the staging tables) and the window."""

    run_id: str
    input_prefix: str
    metrics_prefix: str
    episodes_prefix: str
    iglu_prefix: str
    period_start: date
    period_end: date
    chunks: int = 0
    patients: int = 0

    @property
    def batch_input(self) -> dict[str, str]:
        """The Distributed Map's ``ItemBatcher.BatchInput`` (:class:`grid_batch.GridBatch`)."""
        return {
            "metrics_prefix": self.metrics_prefix,
            "episodes_prefix": self.episodes_prefix,
            "iglu_prefix": self.iglu_prefix,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
        }

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["period_start"] = self.period_start.isoformat()
        values["period_end"] = self.period_end.isoformat()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GridInput:
        return cls(
            run_id=str(values["run_id"]),
            input_prefix=str(values["input_prefix"]),
            metrics_prefix=str(values["metrics_prefix"]),
            episodes_prefix=str(values["episodes_prefix"]),
            iglu_prefix=str(values["iglu_prefix"]),
            period_start=date.fromisoformat(str(values["period_start"])),
            period_end=date.fromisoformat(str(values["period_end"])),
            chunks=int(values.get("chunks", 0)),
            patients=int(values.get("patients", 0)),
        )


def grid_input(run_id: str, end: date) -> GridInput:
    """The work prefixes of run ``run_id``'s grid metrics (Terraform lets the grid-metrics
    Lambda read ``<work>*/input/*`` and write ``<work>*/output/*``); each output prefix is in
    Hive layout (``…/run_id=<run>/``), the run's partition of its staging table."""
    run = run_token(run_id)
    work = f"{GRID_WORK_PREFIX}{run}/"
    return GridInput(
        run_id=run,
        input_prefix=f"{work}input/",
        metrics_prefix=f"{work}output/{GRID_METRICS_STAGING}/run_id={run}/",
        episodes_prefix=f"{work}output/{GRID_EPISODES_STAGING}/run_id={run}/",
        iglu_prefix=f"{work}output/{GRID_IGLU_STAGING}/run_id={run}/",
        period_start=end - timedelta(days=PERIOD_DAYS - 1),
        period_end=end,
    )


def chunk_count(patients: int, per_chunk: int = PATIENTS_PER_CHUNK) -> int:
    """Chunks for ``patients`` patients, ~``per_chunk`` each (at least one)."""
    if per_chunk < 1:
        raise SqlError(f"patients per chunk must be positive, got {per_chunk}")
    return max(1, -(-patients // per_chunk))


def grid_input_statement(
    database: str, end: date, count: int, selected: Sequence[int]
) -> Statement:
    """``sql/grid/grid_input.sql`` over the window's ``period_readings``: the readings of the
    chunks ``selected`` (of ``count``), the chunk column last (UNLOAD's partition column)."""
    readings = period_readings_query(database, period_days(end))
    main = bind(GRID_INPUT_SQL, {"database": database}, {"chunks": list(selected)})
    constants = constants_cte({"chunk_count": float(count)})
    return compose(
        main,
        [("period_readings", readings), ("grid_constants", constants)],
        database,
        GRID_INPUT_COLUMNS,
    )


def stage_grid_input(
    lake: Lake, plan: EltPlan, end: date, per_chunk: int = PATIENTS_PER_CHUNK
) -> GridInput:
    """Unload the period's readings under the run's input prefix, ``chunk=<n>/`` per hash
    bucket of the patient, ~``per_chunk`` patients a chunk (one ``UNLOAD`` per
    :data:`~glucosestream.elt.ports.MAX_PARTITIONS_PER_WRITE` chunks, each into a prefix of its
    own: Athena unloads only into an empty one). What an earlier attempt of the run left is
    removed first."""
    grid = grid_input(plan.run_id, end)
    readings = period_readings_query(lake.database, days_between(grid.period_start, end))
    counted = lake.engine.execute(
        # The composed SQL of sql/ around its parameters: no values in the text.
        f"SELECT count(DISTINCT patient_id) AS patients FROM ({readings.sql}) AS period",  # noqa: S608
        readings.parameters,
    ).columns
    patients = int(counted["patients"][0]) if counted.get("patients") else 0
    count = chunk_count(patients, per_chunk)
    delete_under(lake, f"{GRID_WORK_PREFIX}{grid.run_id}/")
    numbers = [str(n) for n in range(count)]
    for index, selected in enumerate(chunks(numbers)):
        statement = grid_input_statement(lake.database, end, count, [int(n) for n in selected])
        target = lake.storage.uri(f"{grid.input_prefix}part-{index:03d}/")
        unloaded = unload(statement, target, ("chunk",))
        lake.engine.execute(unloaded.sql, unloaded.parameters)
    return replace(grid, chunks=count, patients=patients)
