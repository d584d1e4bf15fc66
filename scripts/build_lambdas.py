"""Build the Lambda artefacts Terraform deploys, reproducibly: ``python scripts/build_lambdas.py``.

Three zips under ``dist/lambda/`` (``make build``):

``code.zip``
    The project's own packages (``glucosestream``, ``consumers``, ``stream``) and the assets they
    read at run time (``schemas/``, ``sql/``, ``sfn/``), in the repository's layout: every
    function's handler is ``consumers.<name>.handler.<function>`` and
    ``glucosestream.resources.PROJECT_ROOT`` resolves to ``/var/task`` as it resolves to the
    checkout locally.
``runtime-layer.zip``
    A Lambda layer (``python/``) with the third-party packages the handlers import, installed by
    pip from PyPI for the Lambda platform (CPython 3.11, manylinux2014 x86_64 wheels: the
    python3.11 runtime runs on Amazon Linux 2, glibc 2.26) at exactly the versions installed in
    the project's venv, so that what runs in Lambda is what the tests ran. boto3/botocore are
    left out: the runtime provides them.

``analytics-layer.zip``
    A second layer (``python/``) with numpy and pyarrow, for the grid-metrics function only
    (``consumers/grid_metrics``: the Distributed Map's per-chunk numpy). Pinned to the newest
    releases with manylinux2014 (glibc 2.17) wheels for CPython 3.11 — the project's venv may
    run newer ones, whose manylinux_2_28 wheels would not load on Amazon Linux 2;
    ``tests/terraform/test_artefacts.py`` runs the handler from the unpacked zips and checks its
    values equal the venv's. Stripped of what the function never loads, as the AWS SDK for
    pandas layer is: pyarrow's Flight (its 20 MB library and bindings), Substrait, ORC, Feather,
    Parquet encryption and remote file-system bindings, C++ headers and sources, Cython files,
    tests, type stubs, the link-time copies of ``libarrow_python``; numpy's tests, f2py, headers
    and static libraries. (libarrow_dataset/acero/substrait stay: every pyarrow extension
    module links them.)

Reproducible: entries sorted, every timestamp 1980-01-01 00:00:00 (the zip epoch), permissions
0644, no ``__pycache__``/``*.pyc``, pip's non-deterministic files dropped; two builds from the
same sources and wheels give byte-identical zips (``dist/lambda/manifest.json`` records their
SHA-256). Each artefact is checked against Lambda's 250 MB unzipped limit.

Not in any layer: ``duckdb`` and ``sqlglot`` (the local engine's). Each function's code plus
its layers is checked against Lambda's 250 MB unzipped limit.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("glucosestream", "consumers", "stream")
CODE_ASSETS = ("schemas", "sql", "sfn")
LAYER_PACKAGES = (
    "aws-lambda-powertools",
    "aws-kinesis-agg",
    "fastavro",
    "pydantic",
    "pydantic-settings",
    "PyJWT",
)
"""Third-party distributions the Lambda handlers import (their dependencies follow)."""
ANALYTICS_REQUIREMENTS = ("numpy==2.2.6", "pyarrow==20.0.0")
"""The analytics layer: the newest numpy and pyarrow with manylinux2014 wheels for cp311."""
ANALYTICS_UNUSED = (
    "bin/*",
    "*/tests/*",
    "*.pyi",
    "*.pyx",
    "*.pxd",
    "*.pxi",
    "*.h",
    "*.hpp",
    "*.cc",
    "*.cpp",
    "pyarrow/include/*",
    "pyarrow/src/*",
    "pyarrow/libarrow_flight.so*",
    "pyarrow/libarrow_python_flight.so*",
    "pyarrow/_flight.*",
    "pyarrow/flight.py",
    "pyarrow/_substrait.*",
    "pyarrow/substrait.py",
    "pyarrow/_orc.*",
    "pyarrow/orc.py",
    "pyarrow/_feather.*",
    "pyarrow/feather.py",
    "pyarrow/_parquet_encryption.*",
    "pyarrow/_dataset_parquet_encryption.*",
    "pyarrow/parquet/encryption.py",
    "pyarrow/_s3fs.*",
    "pyarrow/_gcsfs.*",
    "pyarrow/_azurefs.*",
    "pyarrow/_hdfs.*",
    "pyarrow/_cuda.*",
    "pyarrow/cuda.py",
    "pyarrow/libarrow_python.so",
    "pyarrow/libarrow_python.so.*.*.*",
    "pyarrow/libarrow_python_parquet_encryption.so*",
    "numpy/f2py/*",
    "numpy/_pyinstaller/*",
    "numpy/_core/include/*",
    "numpy/_core/lib/*",
    "numpy/random/lib/*",
    "numpy/doc/*",
)
"""Paths under ``python/`` the grid-metrics function never loads (fnmatch patterns)."""
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
PLATFORM_ARGS = (
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.11",
    "--only-binary=:all:",
)
FUNCTION_ARTEFACTS = {
    "every function": ("code.zip", "runtime-layer.zip"),
    "grid-metrics": ("code.zip", "runtime-layer.zip", "analytics-layer.zip"),
}
"""What each kind of deployed function unpacks (its code and layers)."""
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
SKIPPED_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache"})
NONDETERMINISTIC = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
"""pip's install records: RECORD lists hashes of .pyc files that are not shipped, the others
say how it was installed. Nothing reads them in Lambda."""


def _files(base: Path, top: Path) -> Iterator[Path]:
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(base)
        if any(part in SKIPPED_NAMES for part in rel.parts) or path.suffix in {".pyc", ".pyo"}:
            continue
        if path.is_file():
            yield path


def write_zip(target: Path, entries: Iterable[tuple[str, Path]]) -> int:
    """Write ``entries`` (archive name, file) sorted, with fixed times and modes; return the
    unzipped size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = (0o100000 | FILE_MODE) << 16  # regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the build machine: the mode bits count
            data = path.read_bytes()
            size += len(data)
            zf.writestr(info, data)
    tmp.replace(target)
    return size


def code_entries(root: Path) -> list[tuple[str, Path]]:
    entries = []
    for top in (*CODE_PACKAGES, *CODE_ASSETS):
        entries += [(p.relative_to(root).as_posix(), p) for p in _files(root, root / top)]
    return entries


def pinned_requirements() -> list[str]:
    """``name==version`` for the layer's packages and their dependencies, as installed here."""
    seen: dict[str, str] = {}
    todo = list(LAYER_PACKAGES)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen or key in PROVIDED_BY_RUNTIME:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a dependency whose marker excludes Python 3.11 (not installed here either)
        seen[key] = dist.version
        for req in dist.requires or []:
            if "extra ==" in req:
                continue  # optional extras are not installed for the handlers
            dep = req.split(";")[0].strip()
            for sep in "<>=!~[ (":
                dep = dep.split(sep)[0]
            if dep:
                todo.append(dep)
    return [f"{name}=={version}" for name, version in sorted(seen.items())]


def _pip_install_for_lambda(site: Path, requirements: list[str]) -> None:
    """Install exactly ``requirements`` (a complete, resolved set) for the Lambda platform."""
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",  # the pins are the complete, resolved set
            "--no-compile",
            "--target",
            str(site),
            *PLATFORM_ARGS,
            *requirements,
        ],
        check=True,
    )


def layer_entries(staging: Path, requirements: list[str]) -> list[tuple[str, Path]]:
    site = staging / "python"
    _pip_install_for_lambda(site, requirements)
    return [
        (p.relative_to(staging).as_posix(), p)
        for p in _files(staging, site)
        if p.name not in NONDETERMINISTIC
        and p.relative_to(site).parts[0] != "bin"  # console scripts carry the build's path
    ]


def analytics_entries(staging: Path) -> list[tuple[str, Path]]:
    """numpy and pyarrow for the Lambda platform, without what the function never loads."""
    site = staging / "python"
    _pip_install_for_lambda(site, list(ANALYTICS_REQUIREMENTS))
    return [
        (p.relative_to(staging).as_posix(), p)
        for p in _files(staging, site)
        if p.name not in NONDETERMINISTIC
        and not any(
            fnmatch.fnmatch(p.relative_to(site).as_posix(), pattern) for pattern in ANALYTICS_UNUSED
        )
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out: Path) -> dict[str, dict[str, object]]:
    artefacts: dict[str, dict[str, object]] = {}
    requirements = pinned_requirements()
    with (
        tempfile.TemporaryDirectory(prefix="gs-layer-") as tmp,
        tempfile.TemporaryDirectory(prefix="gs-analytics-") as analytics,
    ):
        built = {
            "code.zip": write_zip(out / "code.zip", code_entries(ROOT)),
            "runtime-layer.zip": write_zip(
                out / "runtime-layer.zip", layer_entries(Path(tmp), requirements)
            ),
            "analytics-layer.zip": write_zip(
                out / "analytics-layer.zip", analytics_entries(Path(analytics))
            ),
        }
    for name, unzipped in built.items():
        artefacts[name] = {"sha256": sha256(out / name), "unzipped_bytes": unzipped}
    for function, zips in FUNCTION_ARTEFACTS.items():
        total = sum(int(str(artefacts[name]["unzipped_bytes"])) for name in zips)
        if total > LAMBDA_UNZIPPED_LIMIT:
            raise SystemExit(
                f"{function}: {' + '.join(zips)} unzip to {total} bytes, over Lambda's 250 MB limit"
            )
    manifest = {
        "artefacts": artefacts,
        "layer_requirements": requirements,
        "analytics_layer_requirements": list(ANALYTICS_REQUIREMENTS),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return artefacts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "lambda")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    for name, facts in build(args.out).items():
        print(f"{args.out / name}  sha256 {facts['sha256']}  {facts['unzipped_bytes']} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
