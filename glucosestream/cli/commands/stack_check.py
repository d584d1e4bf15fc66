"""The check every command that talks to the stack makes first."""

from __future__ import annotations

from glucosestream.cli.errors import UserError
from glucosestream.settings import Settings


def require_running_stack(settings: Settings, alternative: str = "") -> None:
    """In local mode, refuse (exit 2) unless the local stack is up; aws mode needs no check."""
    from glucosestream.local import stack

    if settings.mode == "local" and not stack.status(settings).running:
        raise UserError(
            "the local stack is not running: start it with `glucosestream local up`" + alternative
        )
