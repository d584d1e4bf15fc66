"""Local bindings of the grid-metrics Distributed Map (state ``GridMetrics`` of
``sfn/pipeline.asl.json``).

The ItemReader's ``s3:listObjectsV2`` lists the lake (through the lake storage port) and the
grid-metrics function is :func:`consumers.grid_metrics.handler.handle` in-process, as the
pipeline Lambda's steps are. :func:`fragment` is that one state as a state machine of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from glucosestream.lake.storage import LakeAccessDenied, LakeStorage
from glucosestream.local.lambda_runtime import function_arn
from glucosestream.local.stepfunctions import S3_LIST_OBJECTS, StatesError, fill_placeholders
from glucosestream.resources import project_path
from glucosestream.settings import Settings

PIPELINE_ASL = project_path("sfn", "pipeline.asl.json")
STATE = "GridMetrics"


def grid_metrics_function_arn(settings: Settings) -> str:
    return function_arn(settings.region, settings.names.grid_metrics_function)


def list_objects_v2(lake: LakeStorage, bucket: str) -> Callable[[dict[str, Any]], list[Any]]:
    """The ItemReader ``s3:listObjectsV2`` over ``lake`` (which stands for ``bucket``): every
    object under the prefix in key order, as items ``{"Key", "Size", "StorageClass"}``."""

    def list_objects(parameters: dict[str, Any]) -> list[Any]:
        if parameters.get("Bucket") != bucket:
            raise StatesError(
                "S3.AccessDeniedException",
                f"no bucket {parameters.get('Bucket')!r} here (the local lake is {bucket})",
            )
        prefix = str(parameters.get("Prefix", ""))
        try:
            return [
                {"Key": item.key, "Size": item.size, "StorageClass": "STANDARD"}
                for item in lake.list(prefix)
            ]
        except LakeAccessDenied as denied:
            raise StatesError("S3.AccessDeniedException", str(denied)) from None

    return list_objects


def bindings(settings: Settings, lake: LakeStorage) -> dict[str, Callable[[Any], Any]]:
    """The resources the fragment names, bound to the local lake and handler."""
    from consumers.grid_metrics import handler

    return {
        S3_LIST_OBJECTS: list_objects_v2(lake, settings.names.lake_bucket),
        grid_metrics_function_arn(settings): lambda event: handler.handle(event, lake),
    }


def placeholder_values(settings: Settings) -> dict[str, str]:
    return {
        "grid_metrics_function_arn": grid_metrics_function_arn(settings),
        "lake_bucket": settings.names.lake_bucket,
    }


def fragment(settings: Settings) -> dict[str, Any]:
    """The pipeline's ``GridMetrics`` state alone as a state machine (its input ``$.grid``, its
    Catch and Next dropped), placeholders filled as Terraform fills them: the Distributed Map
    can be run and tested without the rest of the pipeline."""
    machine: dict[str, Any] = json.loads(PIPELINE_ASL.read_text())
    state = {k: v for k, v in machine["States"][STATE].items() if k not in ("Catch", "Next")}
    text = json.dumps({"StartAt": STATE, "States": {STATE: {**state, "End": True}}})
    loaded: dict[str, Any] = json.loads(fill_placeholders(text, placeholder_values(settings)))
    return loaded
