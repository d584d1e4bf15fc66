"""The domain is pure: it imports no AWS SDK, no Powertools and no adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import glucosestream.domain

FORBIDDEN = (
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "moto",
    "glucosestream.adapters",
    "glucosestream.local",
    "requests",
    "duckdb",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_modules_import_nothing_impure() -> None:
    domain = Path(glucosestream.domain.__file__).parent
    modules = sorted(domain.rglob("*.py"))
    assert len(modules) >= 3
    offenders = {
        f"{path.relative_to(domain)}: {name}"
        for path in modules
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert offenders == set()
