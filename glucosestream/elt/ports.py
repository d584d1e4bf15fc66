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

    @property
    def database(self) -> str:
        return self.engine.database
