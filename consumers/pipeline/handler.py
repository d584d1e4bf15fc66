"""The pipeline Lambda: one function, one step per invocation (``{"step": ..., "state": ...}``).

Step Functions invokes it for every step of ``sfn/pipeline.asl.json``; the local executor calls
the same ``lambda_handler`` in-process.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any, TextIO

from aws_lambda_powertools import Logger

from glucosestream.pipeline import run_step
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
    result = run_step(settings, event)
    logger.info("pipeline step done", extra={"step": event.get("step")})
    return result
