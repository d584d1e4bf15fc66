"""How a command gives up: one line on stderr and an exit status that says whose fault it was."""

from __future__ import annotations

from pydantic import ValidationError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class UserError(Exception):
    """Bad input or an impossible request: reported as one line, exit status 2."""


def settings_error(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:  # a rule across settings: its message names the variables
        return f"invalid settings: {message}"
    field = ".".join(str(part) for part in first["loc"])
    return f"invalid setting GS_{field.upper()}: {message}"
