"""The tree's rules (docs/adr/0005-layout.md), read from every module's imports (static, so an
import inside a function counts too; only ``if TYPE_CHECKING:`` blocks are left out).

- What each inner package may import is an allow-list: the standard library, the named
  third-party packages, and the named project packages. The pure core (``domain``) gets only
  numpy.
- Only the composition roots (``glucosestream/cli``, ``glucosestream/local``,
  ``glucosestream/dashboard/resources.py``, ``consumers``, ``bokeh_app``) choose between local
  and AWS implementations: nothing else imports ``glucosestream.local``.
- A Lambda entry point loads neither the local runtime nor the simulator when its module is
  imported (a handler may build a local implementation inside a function, in local mode only).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "glucosestream"

ALLOWED: dict[str, tuple[str, ...]] = {
    "domain": ("numpy", "glucosestream.domain"),
    "contract": (
        "fastavro",
        "aws_kinesis_agg",
        "google.protobuf",
        "glucosestream.domain",
        "glucosestream.contract",
        "glucosestream.resources",
    ),
    "alerts": ("glucosestream.domain", "glucosestream.contract", "glucosestream.alerts"),
    "warehouse": ("glucosestream.warehouse", "glucosestream.resources"),
    "lake": (
        "pyarrow",
        "glucosestream.domain",
        "glucosestream.contract",
        "glucosestream.lake",
        "glucosestream.resources",
    ),
    "elt": (
        "numpy",
        "pyarrow",
        "glucosestream.domain",
        "glucosestream.lake",
        "glucosestream.warehouse",
        "glucosestream.elt",
        "glucosestream.settings",
        "glucosestream.resources",
    ),
    "reports": (
        "numpy",
        "pyarrow",
        "glucosestream.domain",
        "glucosestream.elt",
        "glucosestream.ingest",
        "glucosestream.warehouse",
        "glucosestream.lake.durable_files",
        "glucosestream.reports",
    ),
    "ingest": (
        "numpy",
        "pydantic",
        "pydantic_settings",
        "pyarrow",
        "openpyxl",
        "jwt",
        "glucosestream.domain",
        "glucosestream.contract",
        "glucosestream.lake",
        "glucosestream.ingest",
        "glucosestream.settings",
        # The API's alert-settings and ack routes call the alerts use case (boto3-free, its
        # store injected by the handler's composition root).
        "glucosestream.alerts",
        # Older Nightscout entries are read from the lake through the query-engine port (the
        # engine injected by the same composition root).
        "glucosestream.warehouse",
    ),
}
"""Package (under ``glucosestream/``) → what its modules may import besides the standard
library."""

COMPOSITION_ROOTS = ("cli", "local", "dashboard/resources.py")


def imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def module_level_imports(path: Path) -> Iterator[str]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def standard(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names or name == "__future__"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    modules = sorted((PACKAGE / package).rglob("*.py"))
    assert modules, f"glucosestream/{package} is empty"
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules
        for name in imports(path)
        if not standard(name) and not within(name, ALLOWED[package])
    )
    assert offenders == []


def test_only_composition_roots_import_the_local_runtime() -> None:
    roots = tuple(PACKAGE / root for root in COMPOSITION_ROOTS)
    modules = [
        path
        for path in PACKAGE.rglob("*.py")
        if not any(path == root or root in path.parents for root in roots)
    ]
    assert len(modules) > 50
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules
        for name in imports(path)
        if within(name, ("glucosestream.local",))
    )
    assert offenders == []


def test_lambda_entry_points_load_neither_the_local_runtime_nor_the_simulator() -> None:
    handlers = sorted((ROOT / "consumers").rglob("handler.py"))
    assert len(handlers) >= 5
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in handlers
        for name in module_level_imports(path)
        if within(name, ("glucosestream.local", "stream"))
    )
    assert offenders == []


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nimport numpy\n"
        "if TYPE_CHECKING:\n    import boto3\n"
        "def f():\n    from glucosestream.local import stack\n"
    )
    found = list(imports(module))
    assert {"glucosestream.local", "numpy"} <= set(found)
    assert "boto3" not in found
    assert not within("glucosestream.localx", ("glucosestream.local",))
