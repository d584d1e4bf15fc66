"""Invoke a Lambda handler once in a process of its own, as the Lambda runtime would.

``python -m glucosestream.local.lambda_invoke <module.function> <function name>`` reads the
event (JSON) from stdin, calls the handler with a context, and writes the result (JSON) to
stdout. The handler's own output (its log lines) goes to stderr, kept apart from the result as
CloudWatch Logs keeps it. A handler that raises exits 1 with ``{"errorType", "errorMessage"}``
on stdout, the shape Lambda gives Step Functions. The caller sets the environment: exactly the
function's variables (as Terraform configured them) plus endpoint overrides — that is what the
AWS-mode rehearsal runs each deployed function with.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from glucosestream.local.lambda_runtime import function_arn, invocation_context

INVOKE_TIMEOUT_S = 900


def invoke(handler_path: str, function_name: str, event: Any) -> Any:
    """Call ``module.function`` with ``event`` and a context naming ``function_name``."""
    module_name, _, attribute = handler_path.rpartition(".")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
    context = invocation_context(
        function_name,
        function_arn("local", function_name, account="000000000000"),
        memory_limit_in_mb=1024,
        timeout_s=INVOKE_TIMEOUT_S,
    )
    return handler(event, context)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 2:
        print("usage: python -m glucosestream.local.lambda_invoke HANDLER NAME", file=sys.stderr)
        return 2
    event = json.loads(sys.stdin.read() or "null")
    # The result alone goes to stdout: whatever the handler writes there (logs) goes to stderr.
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        result = invoke(arguments[0], arguments[1], event)
    except Exception as error:  # the runtime reports any error of the handler, whatever its type
        document = {"errorType": type(error).__name__, "errorMessage": str(error)}
        result_out.write(json.dumps(document))
        result_out.close()
        return 1
    result_out.write(json.dumps(result, default=str))
    result_out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
