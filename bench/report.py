"""Run every benchmark in ``bench/`` and write ``docs/benchmarks.md``: the machine, the date, and
what each benchmark printed (each compares itself with a baseline measured in the same run).

    python bench/report.py [--output docs/benchmarks.md] [--only e2e,elt]

A benchmark that fails is reported as failed, with its output, and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TIMEOUT_S = 1800


def machine() -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB RAM"
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores{memory}",
        f"- system: {platform.platform()}",
        f"- Python {platform.python_version()}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args()
    wanted = {name for name in args.only.split(",") if name}
    scripts = [
        script
        for script in sorted(BENCH.glob("[!_]*.py"))
        if script.name != Path(__file__).name and (not wanted or script.stem in wanted)
    ]
    unknown = wanted - {script.stem for script in scripts}
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    sections: list[str] = []
    failed = []
    for script in scripts:
        print(f"== {script.relative_to(ROOT)}", flush=True)
        began = time.monotonic()
        try:
            result = subprocess.run(
                [sys.executable, str(script)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
            )
            output, status = result.stdout + result.stderr, result.returncode
        except subprocess.TimeoutExpired as timeout:
            output, status = f"{timeout.stdout or ''}\ntimed out after {TIMEOUT_S} s", -1
        took = time.monotonic() - began
        print(output, flush=True)
        verdict = "ok" if status == 0 else f"FAILED (exit status {status})"
        if status != 0:
            failed.append(script.stem)
        doc = (script.read_text().split('"""')[1].strip().splitlines() or [""])[0]
        sections += [
            f"## `{script.relative_to(ROOT)}` — {verdict}, {took:.0f} s",
            "",
            doc,
            "",
            "```",
            output.strip(),
            "```",
            "",
        ]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`bench/report.py`) on {started:%Y-%m-%d %H:%M} UTC. Every "
        "figure below is printed by the benchmark itself, each against a baseline measured in "
        "the same run; targets are the issues' and are marked met or missed by the benchmark.",
        "",
        *machine(),
        "",
        *sections,
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print(f"wrote {args.output}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
