"""The ports one ELT run works through, chosen by a composition root
(:func:`glucosestream.local.lake.local_lake`, ``consumers/pipeline/handler.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from glucosestream.lake.storage import LakeStorage
from glucosestream.settings import ResourceNames
from glucosestream.warehouse.query_engine import QueryEngine
from glucosestream.warehouse.table_catalog import TableCatalog

if TYPE_CHECKING:
    from glucosestream.elt.grid_stage import GridInput

MAX_PARTITIONS_PER_WRITE = 100
"""Athena writes at most 100 partitions per UNLOAD / INSERT INTO / CTAS."""


class GridMetrics(Protocol):
    """Runs the grid-metrics batches of staged chunks outside the state machine (which runs
    them as its Distributed Map): every batch is :func:`glucosestream.elt.grid_batch.run_batch`,
    in-process locally, the grid-metrics Lambda in aws mode."""

    def compute(self, storage: LakeStorage, grid: GridInput) -> None:
        """Write the outputs of every chunk staged under ``grid.input_prefix``, one batch per
        listed object, as the Distributed Map sends them (``grid.batch_input``)."""
        ...


@dataclass(frozen=True)
class Lake:
    """The ports one run works through, chosen by a composition root."""

    names: ResourceNames
    storage: LakeStorage
    engine: QueryEngine
    catalog: TableCatalog
    grid: GridMetrics
    curate_partitions_per_query: int = MAX_PARTITIONS_PER_WRITE
    """``dt`` partitions rebuilt by one curate statement (1-100). Athena spreads one statement
    over its workers, so one statement of up to 100 partitions (its UNLOAD limit) is best
    there; one DuckDB process sorts a statement's rows in its own memory, so the local lake
    takes a few days at a time (:data:`glucosestream.local.lake.LOCAL_CURATE_PARTITIONS`)."""

    def __post_init__(self) -> None:
        per_query = self.curate_partitions_per_query
        if isinstance(per_query, bool) or not 1 <= per_query <= MAX_PARTITIONS_PER_WRITE:
            raise ValueError(
                f"curate_partitions_per_query must be 1-{MAX_PARTITIONS_PER_WRITE}, "
                f"got {per_query!r}"
            )

    @property
    def database(self) -> str:
        return self.engine.database
