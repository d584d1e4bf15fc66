"""The two ways an ASL run goes wrong: an invalid definition, or a runtime error with a name."""

from __future__ import annotations


class AslError(ValueError):
    """The definition (or a path/template in it) is invalid; raised before or instead of running."""


class StatesError(Exception):
    """A runtime error with an ASL error name (``States.TaskFailed``, a task's own name, ...)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
