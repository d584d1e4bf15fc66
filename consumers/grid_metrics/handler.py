"""The grid-metrics Lambda: one Distributed Map batch of patient chunks per invocation.

The state machine's Distributed Map sends ``{"Items": [{"Key": ..., "Size": ...}, ...],
"BatchInput": {"metrics_prefix", "episodes_prefix", "iglu_prefix", "period_start",
"period_end"}}``; each chunk's grid metrics, episodes and iglu profiles are written under those
prefixes (:mod:`glucosestream.elt.grid_batch`). The local Step Functions runner calls
:func:`handle` with its own lake.

Its artefact holds numpy and pyarrow (the analytics layer) and nothing of the local engine: it
imports no DuckDB, no sqlglot and no ``glucosestream.local``. Logs carry counts and chunk
names only, never readings.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.elt.grid_batch import run_batch
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.storage import LakeStorage
from glucosestream.settings import Settings, load_settings

logger = Logger(service="grid-metrics")


def build_lake(settings: Settings) -> LakeStorage:
    """The composition root: the lake bucket in aws mode, its local directory otherwise."""
    if settings.mode == "aws":
        return S3LakeStorage(aws_client("s3", settings), settings.names.lake_bucket)
    return LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)


@cache
def _lake() -> LakeStorage:
    return build_lake(load_settings())


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, _lake())


def handle(event: dict[str, Any], lake: LakeStorage) -> dict[str, Any]:
    """One batch against ``lake``; returns the batch's counts (the child execution's output)."""
    report = run_batch(event, lake)
    logger.info(
        "grid metrics batch done",
        extra={key: report[key] for key in ("chunks", "covered", "patients", "episodes")},
    )
    return report
