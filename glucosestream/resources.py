"""Where the project's non-Python assets live (schemas/, sql/, sfn/).

They sit at the top of the repository beside the ``glucosestream`` package; the Lambda bundles
built by ``make build`` keep the same layout, so one lookup serves both.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)
