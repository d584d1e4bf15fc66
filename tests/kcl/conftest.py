"""The KCL tests run on the integration tests' local stack (the same fixtures)."""

from tests.integration.conftest import running_stack, stack_env

__all__ = ["running_stack", "stack_env"]
