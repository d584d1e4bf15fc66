"""The pipeline Lambda: one function, one step per invocation (``{"step": ..., "state": ...}``).

Step Functions invokes it for every step of ``sfn/pipeline.asl.json``; the local executor calls
the same ``lambda_handler`` in-process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from glucosestream.pipeline import run_step
from glucosestream.settings import Settings, load_settings

logger = Logger(service="pipeline")


@cache
def _settings() -> Settings:
    return load_settings()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = run_step(_settings(), event)
    logger.info("pipeline step done", extra={"step": event.get("step")})
    return result
