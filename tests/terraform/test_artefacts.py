"""The Lambda artefacts of ``make build`` run the deployed handlers.

Each handler Terraform deploys is imported from the unpacked ``code.zip`` + ``runtime-layer.zip``
alone (plus boto3, which the Lambda runtime provides), in a fresh interpreter without the
project's venv: what Lambda would do at a cold start.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.terraform.conftest import REPO_ROOT, load_tool

RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
"""What the python3.11 Lambda runtime ships (copied from the venv into the fake runtime)."""


def deployed_handlers() -> list[str]:
    handlers = []
    for path in sorted((REPO_ROOT / "terraform" / "modules").glob("*/*.tf")):
        for line in path.read_text().splitlines():
            if line.strip().startswith("handler ") and "consumers." in line:
                handlers.append(line.split('"')[1])
    return handlers


def test_handlers_are_found() -> None:
    assert len(deployed_handlers()) == 4


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = REPO_ROOT / "scripts" / "build_lambdas.py"
    spec = importlib.util.spec_from_file_location("build_lambdas_artefacts", path)
    assert spec is not None
    assert spec.loader is not None
    build: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    root = tmp_path_factory.mktemp("lambda")
    try:
        build.build(root / "dist")
    except subprocess.CalledProcessError as error:
        pytest.skip(f"pip could not fetch the Lambda platform wheels (offline?): {error}")
    for name, target in (("code.zip", "task"), ("runtime-layer.zip", "opt")):
        with zipfile.ZipFile(root / "dist" / name) as zf:
            zf.extractall(root / target)
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    runtime = root / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PROVIDED:
        source = site / name if (site / name).exists() else site / f"{name}.py"
        target = runtime / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.write_bytes(source.read_bytes())
    return root


@pytest.mark.parametrize("handler", deployed_handlers())
def test_handler_imports_from_the_artefacts_alone(unpacked: Path, handler: str) -> None:
    module, _, function = handler.rpartition(".")
    path = ":".join(str(unpacked / p) for p in ("task", "opt/python", "runtime"))
    done = subprocess.run(
        [
            sys.executable,
            "-I",  # isolated: no user site, no PYTHON* variables, no venv on sys.path
            "-S",
            "-c",
            f"import sys; sys.path[:0] = {path.split(':')!r}; "
            f"import {module} as m; assert callable(m.{function})",
        ],
        cwd=unpacked / "task",
        env={"GS_MODE": "aws", "GS_PSEUDONYM_KEY": "k" * 32, "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_rehearsal_tool_is_importable() -> None:
    assert load_tool("moto_rehearsal").ENDPOINT_SERVICES
