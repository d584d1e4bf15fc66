"""Run every benchmark in ``bench/`` and write ``docs/benchmarks.md``: the machine, the date, and
what each benchmark printed (each compares itself with a baseline measured in the same run).

    python bench/report.py [--output docs/benchmarks.md] [--only e2e,elt] [-- BENCHMARK ARGS]

A benchmark that fails is reported as failed, with its output, and makes the exit status 1.
With ``--only``, the named benchmarks' sections are replaced and every other section of the
existing file is kept as it is. Opt-in benchmarks (:data:`OPT_IN`: too long for ``make bench``)
run only when named: ``make bench-scale`` is ``--only scale``.
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
OPT_IN = frozenset({"scale"})
"""Benchmarks that run only when ``--only`` names them."""
SECTION = "## `bench/"


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
    parser.add_argument(
        "bench_args", nargs=argparse.REMAINDER, help="after --: arguments for the benchmarks run"
    )
    args = parser.parse_args()
    bench_args = args.bench_args[1:] if args.bench_args[:1] == ["--"] else args.bench_args
    wanted = {name for name in args.only.split(",") if name}
    scripts = [
        script
        for script in sorted(BENCH.glob("[!_]*.py"))
        if script.name != Path(__file__).name
        and (script.stem in wanted if wanted or script.stem in OPT_IN else True)
    ]
    unknown = wanted - {script.stem for script in scripts}
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    sections: dict[str, list[str]] = kept_sections(args.output) if wanted else {}
    failed = []
    for script in scripts:
        print(f"== {script.relative_to(ROOT)}", flush=True)
        began = time.monotonic()
        try:
            result = subprocess.run(
                [sys.executable, str(script), *bench_args],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=None if script.stem in OPT_IN else TIMEOUT_S,
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
        sections[script.stem] = [
            f"{SECTION}{script.name}` — {verdict}, {took:.0f} s",
            "",
            doc,
            "",
            *(
                [
                    f"Run alone on {started:%Y-%m-%d %H:%M} UTC as `python bench/{script.name}"
                    f"{''.join(' ' + arg for arg in bench_args)}`",
                    *machine(),
                    "",
                ]
                if wanted
                else []
            ),
            "```",
            output.strip(),
            "```",
            "",
        ]
    header = kept_header(args.output) if wanted else []
    lines = [
        *(
            header
            or [
                "# Benchmarks",
                "",
                f"Written by `make bench` (`bench/report.py`) on {started:%Y-%m-%d %H:%M} UTC. "
                "Every figure below is printed by the benchmark itself, each against a baseline "
                "measured in the same run; targets are the issues' and are marked met or missed "
                "by the benchmark.",
                "",
                *machine(),
                "",
            ]
        ),
        *(line for _, section in sorted(sections.items()) for line in section),
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print(f"wrote {args.output}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def kept_header(path: Path) -> list[str]:
    """What an existing report says before its first section."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(SECTION)), len(lines))
    return lines[:first]


def kept_sections(path: Path) -> dict[str, list[str]]:
    """The per-benchmark sections of an existing report, by benchmark name."""
    if not path.exists():
        return {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text().splitlines():
        if line.startswith(SECTION):
            current = sections.setdefault(line[len(SECTION) :].split(".py`", 1)[0], [])
        if current is not None:
            current.append(line)
    return sections


if __name__ == "__main__":
    sys.exit(main())
