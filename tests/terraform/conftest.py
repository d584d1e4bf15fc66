"""Fixtures of the Terraform tests: the parsed modules (python-hcl2) and a plan of envs/dev.

The plan runs ``terraform/tools/moto_rehearsal.py``: envs/dev (dashboard included) planned
against a local moto server, so data sources resolve without AWS credentials. Without terraform
or moto_server the plan-based tests are SKIPPED with the reason.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
MODULES_DIR = TERRAFORM_DIR / "modules"
ENV_DIR = TERRAFORM_DIR / "envs" / "dev"
TOOLS_DIR = TERRAFORM_DIR / "tools"


def load_tool(name: str) -> ModuleType:
    """Import terraform/tools/<name>.py (a script directory, not a package)."""
    if str(TOOLS_DIR) not in sys.path:
        sys.path.insert(0, str(TOOLS_DIR))
    spec = importlib.util.spec_from_file_location(name, TOOLS_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unquote(value: Any) -> Any:
    """python-hcl2 8 keeps the quotes of string literals: ``'"x"'`` → ``'x'``."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts)


@pytest.fixture(scope="session")
def parsed() -> dict[Path, dict[str, Any]]:
    """Every .tf file of terraform/, parsed."""
    result = {}
    for path in tf_files():
        with path.open() as handle:
            result[path] = hcl2.load(handle)
    return result


@pytest.fixture(scope="session")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``terraform show -json`` of a plan of envs/dev against a local moto server."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the plan-based contract tests did not run")
    if not (Path(sys.executable).with_name("moto_server")).exists():
        pytest.skip("moto_server is not installed (the project's local extra)")
    rehearsal = load_tool("moto_rehearsal")
    with rehearsal.moto_server() as endpoint:
        yield rehearsal.plan_json(tmp_path_factory.mktemp("plan"), endpoint)


CONSUMER_PLANS: dict[str, dict[str, Any]] = {
    "lambda": {"alerts_consumer": "lambda"},
    "kcl": {"alerts_consumer": "kcl"},
    "kcl-without-network": {"alerts_consumer": "kcl", "alerts_kcl": None},
}
"""Variables of the plans besides the main one (which runs both alerts consumers): each other
choice of alerts_consumer, and the KCL asked for without a network (a plan that must fail)."""


@pytest.fixture(scope="session")
def consumer_plans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``terraform show -json`` of a plan of envs/dev for each of :data:`CONSUMER_PLANS` (run
    side by side against one moto server), or the RuntimeError of a plan that failed."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the plan-based contract tests did not run")
    if not (Path(sys.executable).with_name("moto_server")).exists():
        pytest.skip("moto_server is not installed (the project's local extra)")
    rehearsal = load_tool("moto_rehearsal")

    def plan_or_error(endpoint: str, key: str) -> Any:
        try:
            return rehearsal.plan_json(tmp_path_factory.mktemp(key), endpoint, CONSUMER_PLANS[key])
        except RuntimeError as error:
            return error

    with rehearsal.moto_server() as endpoint, ThreadPoolExecutor(len(CONSUMER_PLANS)) as pool:
        futures = {key: pool.submit(plan_or_error, endpoint, key) for key in CONSUMER_PLANS}
        yield {key: future.result() for key, future in futures.items()}


def planned_resources(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    """Planned resources of one type: address, known values (``after``) and unknown keys."""
    return [
        {
            "address": change["address"],
            "after": change["change"]["after"] or {},
            "unknown": change["change"].get("after_unknown") or {},
        }
        for change in plan["resource_changes"]
        if change["type"] == type_ and change["mode"] == "managed"
    ]
