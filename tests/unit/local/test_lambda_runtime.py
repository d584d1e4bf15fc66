"""The context object local invocations hand a handler."""

from __future__ import annotations

from glucosestream.local.lambda_runtime import function_arn, invocation_context


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_context_counts_down_from_the_function_timeout() -> None:
    clock = Clock()
    arn = function_arn("eu-west-1", "gs-dev-alerts")
    assert arn == "arn:aws:lambda:eu-west-1:123456789012:function:gs-dev-alerts"
    context = invocation_context(
        "gs-dev-alerts", arn, memory_limit_in_mb=128, timeout_s=60.0, clock=clock
    )
    assert (context.function_name, context.invoked_function_arn) == ("gs-dev-alerts", arn)
    assert (context.memory_limit_in_mb, context.function_version) == (128, "$LATEST")
    assert context.log_group_name == "/aws/lambda/gs-dev-alerts"
    assert context.get_remaining_time_in_millis() == 60_000
    clock.now += 59.5
    assert context.get_remaining_time_in_millis() == 500
    clock.now += 1
    assert context.get_remaining_time_in_millis() == 0


def test_each_invocation_has_its_own_request_id() -> None:
    first, second = (
        invocation_context(
            "f", function_arn("local", "f", "000000000000"), memory_limit_in_mb=1, timeout_s=1
        )
        for _ in range(2)
    )
    assert first.aws_request_id != second.aws_request_id
    assert first.invoked_function_arn == "arn:aws:lambda:local:000000000000:function:f"
