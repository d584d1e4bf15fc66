"""The grid metrics outside the state machine, in-process: local mode's
:class:`glucosestream.elt.ports.GridMetrics`.

The same batches the pipeline's Distributed Map sends the grid-metrics Lambda
(``consumers/grid_metrics/handler.py``): one per object staged under the input prefix (its
ItemReader lists them in key order; ``MaxItemsPerBatch`` 1), each run by
:func:`glucosestream.elt.grid_batch.run_batch` over the lake storage. So
:func:`glucosestream.elt.refresh.run_elt` computes the grid metrics exactly as a pipeline run
does, without an ASL interpreter.
"""

from __future__ import annotations

from glucosestream.elt.grid_batch import run_batch
from glucosestream.elt.grid_stage import GridInput
from glucosestream.lake.storage import LakeStorage


class InProcessGridMetrics:
    """Every batch of the Distributed Map, one after the other, in this process."""

    def compute(self, storage: LakeStorage, grid: GridInput) -> None:
        for item in storage.list(grid.input_prefix):
            run_batch(
                {"Items": [{"Key": item.key, "Size": item.size}], "BatchInput": grid.batch_input},
                storage,
            )
