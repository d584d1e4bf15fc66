"""Offline checks of terraform/: fmt, init + validate of every module and root, checkov.

``python terraform/tools/tf_check.py [fmt|validate|checkov|all]`` (``make tf-check`` runs
``all``). Each check prints one line, PASSED, FAILED or SKIPPED with the reason; the exit status
is 1 if any check failed. A check whose tool is missing is SKIPPED, never PASSED.

Provider installation: where a filesystem mirror of the hashicorp providers exists on this
machine (searched in a few likely roots, see :data:`MIRROR_ROOTS`; ``TF_PLUGIN_MIRROR`` names one
explicitly), a CLI configuration selecting it is written to ``build/tf-check/`` and passed in
``TF_CLI_CONFIG_FILE``; without a mirror Terraform uses the registry as on any user's machine.
Terraform links the mirror's unpacked provider into each working directory (no 600 MB copy), so
a full run takes seconds. Working state (``TF_DATA_DIR``) stays under ``build/tf-check/``; a
dependency lock file that ``init`` creates is removed again, because one made from a
single-platform mirror would break ``init`` on every other platform.

Stdlib only: the tests in ``tests/terraform/`` import it.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

TERRAFORM_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TERRAFORM_DIR.parent
WORK_DIR = REPO_ROOT / "build" / "tf-check"
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
MIRROR_ROOTS = (
    "/opt/tf-plugins",
    "/opt/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/opt/*",
)
"""Where a provider mirror may live (a root holds ``registry.terraform.io/``); globbed one level,
not a search of the whole disk."""
PROVIDER_GLOB = "registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


@dataclass(frozen=True)
class Result:
    check: str
    status: str  # PASSED, FAILED, SKIPPED, or INFO (how the check ran)
    detail: str = ""

    def line(self) -> str:
        return f"{self.status:7} {self.check}" + (f": {self.detail}" if self.detail else "")


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def find_mirror() -> Path | None:
    """The root of a filesystem mirror holding the hashicorp/aws provider, if any."""
    explicit = os.environ.get("TF_PLUGIN_MIRROR")
    candidates = [explicit] if explicit else []
    for pattern in MIRROR_ROOTS:
        candidates += sorted(glob.glob(os.path.expanduser(pattern)))
    for root in candidates:
        if root and glob.glob(os.path.join(root, PROVIDER_GLOB)):
            return Path(root)
    return None


def cli_config(mirror: Path | None) -> Path | None:
    """Write the CLI configuration selecting ``mirror``; ``None`` (the registry) without one."""
    if mirror is None:
        return None
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / "terraformrc"
    # Written to a temporary name and renamed: a parallel init never reads it half-written.
    tmp = WORK_DIR / f"terraformrc.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(
        "# Written by terraform/tools/tf_check.py: hashicorp providers from the local mirror.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )
    tmp.replace(path)
    return path


def terraform_env(data_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"  # no version check call home
    config = cli_config(find_mirror())
    if config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(config)
    elif not Path(env.get("TF_CLI_CONFIG_FILE", "~/.terraformrc")).expanduser().exists():
        env.pop("TF_CLI_CONFIG_FILE", None)  # a dangling setting only produces warnings
    if data_dir is not None:
        env["TF_DATA_DIR"] = str(data_dir)
    return env


def run(args: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed terraform/checkov arguments
        list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def roots() -> list[Path]:
    """Every module and environment directory: each is initialised and validated on its own."""
    dirs = sorted(p for p in (TERRAFORM_DIR / "modules").iterdir() if (p / "main.tf").exists())
    return dirs + sorted(p for p in (TERRAFORM_DIR / "envs").iterdir() if p.is_dir())


def init(directory: Path, terraform: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``terraform init -backend=false`` with the working state under build/tf-check/."""
    data_dir = WORK_DIR / directory.relative_to(TERRAFORM_DIR).as_posix().replace("/", "-")
    env = terraform_env(data_dir)
    done = run([terraform, "init", "-backend=false", "-input=false", "-no-color"], directory, env)
    return done, data_dir


def _validate_one(directory: Path, terraform: str) -> Result:
    name = f"terraform validate {directory.relative_to(REPO_ROOT)}"
    lock = directory / ".terraform.lock.hcl"
    had_lock = lock.exists()
    try:
        done, data_dir = init(directory, terraform)
        if done.returncode:
            return Result(name, "FAILED", "init: " + (done.stderr or done.stdout).strip()[-2000:])
        done = run([terraform, "validate", "-no-color"], directory, terraform_env(data_dir))
    finally:
        if not had_lock:
            lock.unlink(missing_ok=True)
    if done.returncode:
        return Result(name, "FAILED", (done.stderr or done.stdout).strip()[-2000:])
    return Result(name, "PASSED")


def check_fmt() -> Result:
    terraform = terraform_binary()
    if terraform is None:
        return Result("terraform fmt", "SKIPPED", "terraform is not on PATH")
    done = run(
        [terraform, "fmt", "-check", "-recursive", "-no-color"], TERRAFORM_DIR, terraform_env()
    )
    if done.returncode:
        return Result("terraform fmt", "FAILED", f"not formatted: {done.stdout.split()}")
    return Result("terraform fmt", "PASSED", "-check -recursive terraform/")


def check_validate() -> list[Result]:
    terraform = terraform_binary()
    if terraform is None:
        return [Result("terraform validate", "SKIPPED", "terraform is not on PATH")]
    mirror = find_mirror()
    source = f"providers from the mirror {mirror}" if mirror else "providers from the registry"
    with ThreadPoolExecutor(max_workers=2) as pool:  # the machines this runs on have 2+ cores
        results = list(pool.map(lambda d: _validate_one(d, terraform), roots()))
    return [Result("terraform init", "INFO", source), *results]


def skip_comments() -> Iterator[tuple[Path, int, str, str]]:
    """Every ``#checkov:skip=ID:reason`` in terraform/: (file, line, check id, reason)."""
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = SKIP_COMMENT.search(line)
            if match:
                yield path, number, match.group(1), (match.group(2) or "").strip()


def check_checkov() -> Result:
    unexplained = [
        f"{p.relative_to(REPO_ROOT)}:{n} {check}" for p, n, check, why in skip_comments() if not why
    ]
    if unexplained:
        return Result("checkov", "FAILED", f"skips without a reason: {unexplained}")
    if not CHECKOV.exists():
        return Result("checkov", "SKIPPED", f"{CHECKOV} missing (make tf-check installs it)")
    done = run(
        [
            str(CHECKOV),
            "--directory",
            str(TERRAFORM_DIR),
            "--framework",
            "terraform",
            "--compact",
            "--quiet",
            "--skip-download",  # no Bridgecrew platform calls: offline and deterministic
            "--output",
            "cli",
        ],
        REPO_ROOT,
        {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    summary = re.findall(
        r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", done.stdout
    )
    if done.returncode or not summary:
        return Result("checkov", "FAILED", (done.stdout + done.stderr).strip()[-6000:])
    passed, failed, skipped = (sum(int(s[i]) for s in summary) for i in range(3))
    detail = f"{passed} passed, {failed} failed, {skipped} skipped (each skip has a reason)"
    return Result("checkov", "FAILED" if failed else "PASSED", detail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Offline checks of terraform/.")
    parser.add_argument(
        "check", choices=["fmt", "validate", "checkov", "all"], nargs="?", default="all"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    results: list[Result] = []
    if args.check in ("fmt", "all"):
        results.append(check_fmt())
    if args.check in ("validate", "all"):
        results += check_validate()
    if args.check in ("checkov", "all"):
        results.append(check_checkov())
    for result in results:
        print(result.line())
    counts = {s: sum(r.status == s for r in results) for s in ("PASSED", "FAILED", "SKIPPED")}
    print(f"tf-check: {counts} in {time.monotonic() - started:.1f} s")
    return 1 if counts["FAILED"] else 0


if __name__ == "__main__":
    sys.exit(main())
