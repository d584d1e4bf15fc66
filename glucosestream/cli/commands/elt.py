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
    else:
        from glucosestream.local.pipeline_runner import run_pipeline

        run = run_pipeline(settings, args.date, full_refresh=args.full_refresh, as_of=args.as_of)
        name, status, output = run.execution.name, run.execution.status, run.last_state
        error, cause, where = run.execution.error, run.execution.cause, str(run.history_file)
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
    reason = f"data-quality gate failed: {failed}" if failed else f"{error}: {cause}"
    print(f"glucosestream: error: pipeline stopped, marts not rebuilt — {reason}", file=sys.stderr)
    return EXIT_FAILED
