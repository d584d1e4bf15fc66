"""Transforms for the worker-process tests: module-level, so that a pool process can import
them by name (as Lambda imports its handler)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CRASH_MARKER = "GS_TEST_TRANSFORM_CRASH_MARKER"
"""A file path: the first invocation to find it missing creates it and kills its process."""


def raising_transform(event: dict[str, Any], context: Any) -> Any:
    raise TimeoutError("Task timed out after 60.00 seconds")


def crashing_once_transform(event: dict[str, Any], context: Any) -> Any:
    from consumers.firehose_transform.handler import lambda_handler

    marker = Path(os.environ[CRASH_MARKER])
    if not marker.exists():
        marker.touch()
        os._exit(137)  # as the Lambda runtime's process killed for memory
    return lambda_handler(event, context)
