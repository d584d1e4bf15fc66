"""The grid metrics outside the state machine in aws mode: the grid-metrics Lambda, invoked
once per staged object (:class:`glucosestream.elt.ports.GridMetrics`).

The pipeline's state machine does not use it: its Distributed Map lists the staged chunks and
invokes the same function itself (``sfn/pipeline.asl.json``, state ``GridMetrics``). This
serves :func:`glucosestream.elt.refresh.run_elt` run against the AWS lake (a backfill from a shell):
the same batches, synchronous invocations, one after the other.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glucosestream.elt.grid_stage import GridInput
    from glucosestream.lake.storage import LakeStorage


class GridBatchFailed(RuntimeError):
    """The grid-metrics Lambda raised on a batch; the message carries its error and the key."""


class LambdaGridMetrics:
    """Invokes the grid-metrics function (``RequestResponse``) with each Distributed Map batch.

    Parameters
    ----------
    lambda_client
        A boto3 ``lambda`` client (:func:`glucosestream.adapters.clients.aws_client`).
    function_name
        ``ResourceNames.grid_metrics_function``.
    """

    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self.client = lambda_client
        self.function_name = function_name

    def compute(self, storage: LakeStorage, grid: GridInput) -> None:
        for item in storage.list(grid.input_prefix):
            event = {
                "Items": [{"Key": item.key, "Size": item.size}],
                "BatchInput": grid.batch_input,
            }
            response = self.client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
            if response.get("FunctionError"):
                failure = json.loads(response["Payload"].read() or b"{}")
                raise GridBatchFailed(
                    f"{self.function_name} failed on {storage.uri(item.key)}: "
                    f"{failure.get('errorType', 'Error')}: {failure.get('errorMessage', '')}"
                )
