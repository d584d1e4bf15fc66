"""Placeholders in a definition's text, filled as Terraform's ``templatefile`` fills them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from glucosestream.local.stepfunctions.errors import AslError

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace ``${name}`` with ``values[name]``, like Terraform's ``templatefile``.

    ``$${`` is the escape for a literal ``${``. An unknown name raises :class:`AslError`.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1).strip()
        if name not in values:
            raise AslError(f"unknown placeholder ${{{name}}} (known: {sorted(values)})")
        return str(values[name])

    return _PLACEHOLDER.sub(replace, text)
