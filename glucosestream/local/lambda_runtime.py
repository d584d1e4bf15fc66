"""What the Lambda runtime hands a handler, for the local stand-ins that invoke handlers in-process
or in a process of their own: the context object and the function's ARN."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from glucosestream.settings import LOCAL_ACCOUNT_ID, arn


def function_arn(region: str, function_name: str, account: str = LOCAL_ACCOUNT_ID) -> str:
    """The ARN a Lambda function of this name has (in the local account unless given)."""
    return arn("lambda", region, f"function:{function_name}", account)


@dataclass
class LambdaContext:
    """The attributes of the Lambda Python context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline_epoch_s: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_epoch_s - self.clock()) * 1000))


def invocation_context(
    function_name: str,
    invoked_function_arn: str,
    *,
    memory_limit_in_mb: int,
    timeout_s: float,
    clock: Callable[[], float] = time.time,
) -> LambdaContext:
    """The context of one invocation: a fresh request id, the deadline ``timeout_s`` from now
    (by ``clock``), the function's log group."""
    return LambdaContext(
        function_name=function_name,
        invoked_function_arn=invoked_function_arn,
        memory_limit_in_mb=memory_limit_in_mb,
        aws_request_id=str(uuid.uuid4()),
        deadline_epoch_s=clock() + timeout_s,
        log_group_name=f"/aws/lambda/{function_name}",
        clock=clock,
    )
