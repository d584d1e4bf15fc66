"""The pipeline Lambda: one function, one step per invocation (``{"step": ..., "state": ...}``).

Step Functions invokes it for every step of ``sfn/pipeline.asl.json``; the local executor calls
the same ``lambda_handler`` in-process. A composition root: :func:`lake_for` builds the lake's
ports for the mode the settings name — S3, Athena and Glue in aws mode (clients from
:mod:`glucosestream.adapters.clients`), the directory, DuckDB and a directory swap locally. Only
boto3-based adapters are imported in aws mode: the artefact ships no DuckDB, sqlglot, numpy or
pyarrow.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any, TextIO

from aws_lambda_powertools import Logger

from glucosestream.elt.grid_stage import GRID_WORK_PREFIX
from glucosestream.elt.ports import Lake
from glucosestream.elt.steps import run_step
from glucosestream.settings import Settings, load_settings


class LogSink:
    """stdout, looked up at each write; the local runner points it at a log file instead (as
    CloudWatch Logs takes a Lambda's stdout) without touching the logging handler."""

    def __init__(self) -> None:
        self.target: TextIO | None = None

    def write(self, text: str) -> int:
        return (self.target or sys.stdout).write(text)

    def flush(self) -> None:
        (self.target or sys.stdout).flush()


log_sink = LogSink()
logger = Logger(service="pipeline", stream=log_sink)  # type: ignore[arg-type]


@cache
def _settings() -> Settings:
    return load_settings()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, _settings())


def handle(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """One step with the given settings (the local runner passes its own: the environment of
    the process that runs it need not describe the lake it runs against)."""
    result = run_step(lake_for(settings), event)
    logger.info("pipeline step done", extra={"step": event.get("step")})
    return result


def lake_for(settings: Settings) -> Lake:
    """The lake's ports for ``settings.mode``."""
    if settings.mode == "local":
        from glucosestream.local.lake import local_lake  # local mode only

        return local_lake(settings)
    return _aws_lake(settings)


def _aws_lake(settings: Settings) -> Lake:
    # Imported here: each is a thin boto3 adapter, and local mode needs none of them.
    from glucosestream.adapters.athena import AthenaQueryEngine
    from glucosestream.adapters.clients import aws_client
    from glucosestream.adapters.glue_catalog import GlueTableCatalog
    from glucosestream.adapters.grid_metrics import LambdaGridMetrics
    from glucosestream.adapters.s3_lake import S3LakeStorage

    names = settings.names
    storage = S3LakeStorage(aws_client("s3", settings), names.lake_bucket)
    return Lake(
        names=names,
        storage=storage,
        engine=AthenaQueryEngine(
            aws_client("athena", settings),
            database=names.glue_database,
            workgroup=names.athena_workgroup,
        ),
        catalog=GlueTableCatalog(
            aws_client("glue", settings),
            names.glue_database,
            storage,
            work_prefixes=(GRID_WORK_PREFIX,),
        ),
        # Not called by the pipeline's steps (the state machine's Distributed Map computes the
        # grid metrics); run_elt against the AWS lake invokes the function through it.
        grid=LambdaGridMetrics(aws_client("lambda", settings), names.grid_metrics_function),
    )
