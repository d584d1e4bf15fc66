"""The Lambda artefacts of ``make build`` run the deployed handlers.

Each handler Terraform deploys is imported from the unpacked ``code.zip`` + ``runtime-layer.zip``
(+ ``analytics-layer.zip`` for the grid-metrics function) alone (plus boto3, which the Lambda
runtime provides), in a fresh interpreter without the project's venv: what Lambda would do at
a cold start. Each function's code and layers, unpacked, fit Lambda's 250 MB limit.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from glucosestream.elt.grid_metrics import grid_tables
from glucosestream.lake.directory import LocalLakeStorage
from tests.factories import cohort_period_readings
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


LAMBDA_UNZIPPED_LIMIT = 262_144_000
"""Lambda's limit on a function's code and layers, unzipped: 250 MB (250 × 1024 × 1024 bytes)."""
GRID_HANDLER = "consumers.grid_metrics.handler.lambda_handler"
PIPELINE_HANDLER = "consumers.pipeline.handler.lambda_handler"
ANALYTICS = {GRID_HANDLER, PIPELINE_HANDLER}
"""Handlers whose function also has the analytics layer (numpy, pyarrow)."""


def test_handlers_are_found() -> None:
    assert len(deployed_handlers()) == 5
    assert deployed_handlers().count(GRID_HANDLER) == 1


def layer_dirs(unpacked: Path, handler: str) -> list[Path]:
    """What Lambda puts on ``sys.path`` for this function: /var/task, then each layer's python/."""
    dirs = [unpacked / "task", unpacked / "opt" / "python"]
    if handler in ANALYTICS:
        dirs.append(unpacked / "analytics" / "python")
    return dirs


def unpacked_bytes(directory: Path) -> int:
    return sum(
        os.lstat(os.path.join(root, name)).st_size
        for root, _, names in os.walk(directory)
        for name in names
    )


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
    for name, target in (
        ("code.zip", "task"),
        ("runtime-layer.zip", "opt"),
        ("analytics-layer.zip", "analytics"),
    ):
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
    path = ":".join(str(p) for p in [*layer_dirs(unpacked, handler), unpacked / "runtime"])
    done = subprocess.run(
        [
            sys.executable,
            "-I",  # isolated: no user site, no PYTHON* variables, no venv on sys.path
            "-S",
            "-c",
            f"import sys; sys.path[:0] = {path.split(':')!r}; "
            f"import {module} as m; assert callable(m.{function}); "
            # What the function imports lazily at run time must load from its layers too.
            + (
                "import pyarrow.parquet, glucosestream.elt.quality, glucosestream.elt.steps"
                if handler in ANALYTICS
                else "pass"
            ),
        ],
        cwd=unpacked / "task",
        env={"GS_MODE": "aws", "GS_PSEUDONYM_KEY": "k" * 32, "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("handler", deployed_handlers())
def test_function_unzipped_is_under_lambda_limit(unpacked: Path, handler: str) -> None:
    sizes = {
        d.relative_to(unpacked).as_posix(): unpacked_bytes(d) for d in layer_dirs(unpacked, handler)
    }
    assert sizes, handler
    assert all(size > 0 for size in sizes.values()), sizes
    assert sum(sizes.values()) < LAMBDA_UNZIPPED_LIMIT, sizes


def test_grid_handler_runs_from_the_artefacts_with_the_venvs_values(
    unpacked: Path, tmp_path: Path
) -> None:
    """The layer's numpy/pyarrow (pinned for Amazon Linux 2) give the values the tests get."""
    lake = LocalLakeStorage(tmp_path / "lake", "gs-dev-lake")
    cohort = cohort_period_readings(patients=6, days=14, seed=11)
    patients = sorted(set(cohort.column("patient_id").to_pylist()))
    keys = []
    for chunk in range(2):
        part = cohort.filter(pc.is_in(cohort.column("patient_id"), pa.array(patients[chunk::2])))
        sink = io.BytesIO()
        pq.write_table(part, sink)
        keys.append(f"work/grid/in/chunk={chunk}/0.parquet")
        lake.write_bytes(keys[-1], sink.getvalue())
    event = {
        "Items": [{"Key": key, "Size": 1} for key in keys],
        "BatchInput": {
            "metrics_prefix": "work/grid/out/grid_metrics/",
            "episodes_prefix": "work/grid/out/episodes/",
            "iglu_prefix": "work/grid/out/iglu/",
            "period_start": "2026-01-05",
            "period_end": "2026-01-18",
        },
    }
    path = [str(p) for p in [*layer_dirs(unpacked, GRID_HANDLER), unpacked / "runtime"]]
    script = (
        f"import json, sys; sys.path[:0] = {path!r}\n"
        "from consumers.grid_metrics import handler\n"
        "from glucosestream.lake.directory import LocalLakeStorage\n"
        "import numpy, pyarrow, pathlib\n"
        f"lake = LocalLakeStorage(pathlib.Path({str(tmp_path / 'lake')!r}), 'gs-dev-lake')\n"
        f"report = handler.handle(json.loads({json.dumps(event)!r}), lake)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb', 'sqlglot') "
        "or m.startswith('glucosestream.local'))\n"
        "print(json.dumps({'report': report, 'numpy': numpy.__file__, 'pyarrow': pyarrow.__file__,"
        " 'versions': [numpy.__version__, pyarrow.__version__], 'loaded': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        cwd=unpacked / "task",
        env={"GS_MODE": "aws", "GS_PSEUDONYM_KEY": "k" * 32, "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["loaded"] == []
    assert all(str(unpacked / "analytics") in result[m] for m in ("numpy", "pyarrow"))
    assert result["report"]["patients"] == 6
    expected = grid_tables(cohort, date(2026, 1, 5), date(2026, 1, 18))
    written = [o.key for o in lake.list("work/grid/out/grid_metrics/")]
    metrics = pa.concat_tables(pq.read_table(io.BytesIO(lake.read_bytes(k))) for k in written)
    assert metrics.sort_by("patient_id").equals(expected.metrics)
    written = [o.key for o in lake.list("work/grid/out/episodes/")]
    episodes = pa.concat_tables(pq.read_table(io.BytesIO(lake.read_bytes(k))) for k in written)
    order = [("patient_id", "ascending"), ("start_local", "ascending"), ("level", "ascending")]
    assert episodes.num_rows == expected.episodes.num_rows > 0
    assert episodes.sort_by(order).equals(expected.episodes.sort_by(order))


def test_rehearsal_tool_is_importable() -> None:
    assert load_tool("moto_rehearsal").ENDPOINT_SERVICES
