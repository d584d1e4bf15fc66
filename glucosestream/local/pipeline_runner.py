"""Run ``sfn/pipeline.asl.json`` locally: the same ASL, with its task resources bound to the
pipeline Lambda handler (in-process), to Athena's ``startQueryExecution.sync`` (DuckDB, through
:class:`~glucosestream.local.athena.LocalAthena`), to SNS on the local stack, and — for the
grid-metrics Distributed Map — to a listing of the lake (its ItemReader) and the grid-metrics
Lambda handler in-process (:mod:`glucosestream.local.grid_map`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from glucosestream.adapters.clients import aws_client
from glucosestream.local import grid_map, stack
from glucosestream.local.athena import SqlError
from glucosestream.local.lake import start_query
from glucosestream.local.lambda_runtime import function_arn, invocation_context
from glucosestream.local.stepfunctions import (
    Execution,
    StateMachine,
    StatesError,
    fill_placeholders,
)
from glucosestream.resources import project_path
from glucosestream.settings import Settings

ASL_FILE = project_path("sfn", "pipeline.asl.json")
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
ATHENA_QUERY_SYNC = "arn:aws:states:::athena:startQueryExecution.sync"


@dataclass(frozen=True)
class StepFailure:
    """The state whose failure (after its retries) the pipeline's Catch sent to NotifyError."""

    state: str
    error: str
    cause: str


def last_state_failure(history: list[dict[str, Any]]) -> StepFailure | None:
    """The last failure of a state in an execution history, with its original error and cause.

    The execution's own error is the Fail state's (``PipelineStepFailed``, "see the execution
    history"), which says nothing of what broke; the cause is on the failing state's events. A
    Map's failure is reported as the Map state's (the state the ASL names, with the Catch), with
    the cause of the iteration that failed.
    """
    failure: StepFailure | None = None
    entered = ""
    for event in history:
        kind, details = event["type"], event.get("details") or {}
        if kind.endswith("StateEntered"):
            entered = str(details.get("name", ""))
        elif (
            kind.endswith("Failed")
            and kind not in ("ExecutionFailed", "MapIterationFailed")
            and "error" in details
        ):
            failure = StepFailure(
                state=str(details.get("name") or entered),
                error=str(details["error"]),
                cause=str(details.get("cause") or ""),
            )
    return failure


@dataclass(frozen=True)
class PipelineRun:
    execution: Execution
    history_file: Path
    notifications: list[dict[str, Any]]

    @property
    def failed_step(self) -> StepFailure | None:
        """Why a FAILED execution failed, when a state failed; None when none did (the
        data-quality gate ends in its Fail state without a failing task)."""
        if self.execution.status != "FAILED":
            return None
        return last_state_failure(self.execution.history)

    @property
    def last_state(self) -> dict[str, Any]:
        """The pipeline data as the last state entered saw it (a Fail state has no output)."""
        if isinstance(self.execution.output, dict):
            return self.execution.output
        for event in reversed(self.execution.history):
            if event["type"].endswith("StateEntered"):
                data = json.loads(event["details"].get("input") or "{}")
                return data if isinstance(data, dict) else {}
        return {}


def failed_query_cause(reason: str) -> str:
    """The Cause Step Functions gives a failed ``athena:startQueryExecution.sync`` task: the
    query execution as JSON, with its id and Athena's reason (what the pipeline topic is sent)."""
    execution = {
        "QueryExecutionId": f"local-{uuid.uuid4()}",
        "Status": {"State": "FAILED", "StateChangeReason": reason},
    }
    return json.dumps({"QueryExecution": execution})


def pipeline_function_arn(settings: Settings) -> str:
    return function_arn(settings.region, settings.names.pipeline_function)


def placeholder_values(settings: Settings) -> dict[str, str]:
    """What the ASL's ``${…}`` placeholders stand for (Terraform's templatefile variables)."""
    return {
        "pipeline_function_arn": pipeline_function_arn(settings),
        "pipeline_topic_arn": settings.topic_arn(settings.names.pipeline_topic),
        "glue_database": settings.names.glue_database,
        "athena_workgroup": settings.names.athena_workgroup,
        **grid_map.placeholder_values(settings),
    }


def definition(settings: Settings) -> dict[str, Any]:
    """The ASL with its placeholders filled, as Terraform's templatefile fills them in AWS."""
    text = fill_placeholders(ASL_FILE.read_text(), placeholder_values(settings))
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def run_pipeline(
    settings: Settings,
    run_date: date | None = None,
    *,
    full_refresh: bool = False,
    as_of: datetime | None = None,
    patients_per_chunk: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PipelineRun:
    """One execution of the pipeline's state machine; ``patients_per_chunk`` overrides the grid
    metrics' chunk size (``grid_stage.PATIENTS_PER_CHUNK``) through the execution input."""
    from consumers.grid_metrics.handler import build_lake
    from consumers.pipeline import handler

    notifications: list[dict[str, Any]] = []
    pipeline_arn = pipeline_function_arn(settings)
    stack_running = settings.mode == "aws" or stack.status(settings).running

    def invoke(payload: dict[str, Any]) -> Any:
        context = invocation_context(
            settings.names.pipeline_function, pipeline_arn, memory_limit_in_mb=1024, timeout_s=900
        )
        with handler.logger.append_context_keys(
            function_name=context.function_name, function_request_id=context.aws_request_id
        ):
            return handler.handle(payload, settings)

    def publish(parameters: dict[str, Any]) -> dict[str, Any]:
        notifications.append(parameters)
        if stack_running:
            sns = aws_client("sns", settings)
            response = sns.publish(
                TopicArn=parameters["TopicArn"],
                Subject=parameters.get("Subject", "GlucoseStream pipeline"),
                Message=parameters["Message"],
            )
            return {"MessageId": response["MessageId"]}
        # No local stack to publish to: the notification is kept beside the run's history.
        return {"MessageId": "local-not-published"}

    def athena_task(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("WorkGroup") != settings.names.athena_workgroup:
            raise StatesError("Athena.InvalidRequestException", "unknown work group")
        database = parameters.get("QueryExecutionContext", {}).get("Database")
        if database != settings.names.glue_database:
            raise StatesError("Athena.InvalidRequestException", f"unknown database {database!r}")
        try:
            return start_query(
                settings, parameters["QueryString"], parameters.get("ExecutionParameters", ())
            )
        except SqlError as error:  # a FAILED query execution, as .sync reports it
            raise StatesError("States.TaskFailed", failed_query_cause(str(error))) from None

    resources = {pipeline_arn: invoke, SNS_PUBLISH: publish, ATHENA_QUERY_SYNC: athena_task}
    resources.update(grid_map.bindings(settings, build_lake(settings)))
    machine = StateMachine(
        definition(settings), resources, name=settings.names.state_machine, sleep=sleep
    )
    run_id = uuid.uuid4().hex[:12]
    state: dict[str, Any] = {"run_id": run_id, "full_refresh": full_refresh}
    if run_date is not None:
        state["run_date"] = run_date.isoformat()
    if as_of is not None:
        state["as_of"] = as_of.isoformat()
    if patients_per_chunk is not None:
        state["patients_per_chunk"] = patients_per_chunk
    history_file = settings.state_dir / "logs" / f"pipeline-{run_id}.json"
    history_file.parent.mkdir(parents=True, exist_ok=True)
    # The Lambda's own log lines go where CloudWatch Logs would take them, not to the console.
    with (settings.state_dir / "logs" / "lambda-pipeline.log").open("a") as lambda_log:
        handler.log_sink.target = lambda_log
        try:
            execution = machine.execute(state, name=run_id)
        finally:
            handler.log_sink.target = None
    history_file.write_text(
        json.dumps(
            {"status": execution.status, "error": execution.error, "cause": execution.cause,
             "output": execution.output, "notifications": notifications,
             "history": execution.history},
            indent=2, default=str,
        )
    )  # fmt: skip
    return PipelineRun(execution, history_file, notifications)
