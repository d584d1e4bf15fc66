"""``glucosestream elt run``: the ELT pipeline once, and a report of its steps."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from glucosestream.cli.errors import EXIT_FAILED, UserError
from glucosestream.settings import Settings


def cmd_elt_run(args: argparse.Namespace, settings: Settings) -> int:
    """The pipeline once: locally its ASL runs here; in aws mode the deployed state machine."""
    if settings.mode == "aws":
        from glucosestream.adapters.clients import aws_client
        from glucosestream.adapters.state_machine import StateMachineNotFound, StateMachineRunner

        execution_input: dict[str, Any] = {"full_refresh": args.full_refresh}
        if args.date is not None:
            execution_input["run_date"] = args.date.isoformat()
        if args.as_of is not None:
            execution_input["as_of"] = args.as_of.isoformat()
        runner = StateMachineRunner(
            aws_client("stepfunctions", settings), settings.names.state_machine
        )
        try:
            result = runner.run(execution_input)
        except StateMachineNotFound as missing:
            raise UserError(str(missing)) from None
        name, status, output = result.name, result.status, result.last_state
        error, cause, where = result.error, result.cause, f"state machine {runner.name}"
        # The Catch keeps the failing step's error at $.error, in the data the Fail state got.
        caught = output.get("error") if isinstance(output.get("error"), dict) else None
        failed_step = (
            ("a step", str(caught.get("Error")), str(caught.get("Cause") or ""))
            if caught and status != "SUCCEEDED"
            else None
        )
    else:
        from glucosestream.local.pipeline_runner import run_pipeline

        run = run_pipeline(settings, args.date, full_refresh=args.full_refresh, as_of=args.as_of)
        name, status, output = run.execution.name, run.execution.status, run.last_state
        error, cause, where = run.execution.error, run.execution.cause, str(run.history_file)
        failure = run.failed_step
        failed_step = (f"state {failure.state}", failure.error, failure.cause) if failure else None
    plan = output.get("plan", {})
    print(f"pipeline run {plan.get('run_id', name)}: {status}")
    summary = {**output}
    if "plan" in output:  # the Athena statements are in the history, not on the console
        queries = output["plan"].get("curate_queries", [])
        summary["plan"] = {k: v for k, v in output["plan"].items() if k != "curate_queries"}
        summary["athena"] = {
            "statements": len(queries),
            "states": [q.get("State") for q in output.get("unloaded") or []],
        }
    for step in ("plan", "athena", "curate", "quality", "marts", "commit", "record"):
        if step in summary:
            print(f"  {step:>8}: {json.dumps(summary[step], default=str)}")
    print(f"  history: {where}")
    if status == "SUCCEEDED":
        return 0
    quality = output.get("quality") or {}
    failed = ", ".join(
        f"{f['check']} ({f['failing']} failing, e.g. {', '.join(f['sample'][:2])})"
        for f in quality.get("failed", [])
    )
    if failed:
        reason = f"data-quality gate failed: {failed}"
    elif failed_step is not None:
        # The execution's own error is the Fail state's "see the execution history": say what
        # broke (the exception, which names the file or partition) and where the history is.
        state, step_error, step_cause = failed_step
        reason = (
            f"{state} failed: {step_error}: {cause_in_one_line(step_cause)}\n"
            f"  execution history: {where}"
        )
    else:
        reason = f"{error}: {cause}"
    print(f"glucosestream: error: pipeline stopped, marts not rebuilt — {reason}", file=sys.stderr)
    return EXIT_FAILED


def cause_in_one_line(cause: str) -> str:
    """A failed state's cause for the console: Athena's reason from a failed query execution
    (the .sync task's cause is the execution as JSON), a Lambda's error message, else the first
    line (DuckDB appends the statement with a caret under it)."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        status = (parsed.get("QueryExecution") or {}).get("Status") or {}
        message = status.get("StateChangeReason") or parsed.get("errorMessage")
        if message:
            return cause_in_one_line(str(message))
    lines = [line.strip() for line in cause.splitlines() if line.strip()]
    return lines[0] if lines else "(no cause given)"
