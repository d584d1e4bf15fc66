"""The ``glucosestream`` entry point: parse the command line, load the settings, run the
command's handler and turn how it ended into one line on stderr and an exit status."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from glucosestream.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, UserError, settings_error
from glucosestream.cli.parser import build_parser
from glucosestream.local.processes import StackError
from glucosestream.settings import MissingSetting, Settings, load_settings

ARROW_MEMORY_POOL = "system"
"""pyarrow's allocator in the console script's process and those it starts: the C library's.
Measured on the 2-core machine (farm-bench, paired runs): ``glucosestream metrics`` of the
1.19M-row CSV 0.86x the wall time under pyarrow's default (mimalloc); reading and metrics of 4M
readings 0.90x, peak memory 794 vs 900 MiB. mimalloc's fresh pages made each first pass over
new tables (the Parquet read, the dedupe) up to twice as slow; jemalloc matched the C library's
speed with more memory. A user's own ``ARROW_DEFAULT_MEMORY_POOL`` is kept."""


def console() -> int:
    """The ``glucosestream`` console script: :func:`main` under :data:`ARROW_MEMORY_POOL` (set
    before pyarrow makes its first allocation), then every object left frozen out of the
    garbage collector before the interpreter exits.

    Why: the interpreter's final collections walk every object the command's libraries made
    (pandas, sqlglot, pydantic, DuckDB's and pyarrow's Python layers), which took ~0.2 s of a
    1.5 s ``glucosestream metrics``; the objects are still freed as their last reference goes.
    Only here, at the process's end: tests call :func:`main` many times in one process.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", ARROW_MEMORY_POOL)
    status = main()
    gc.freeze()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        print(f"glucosestream: error: {settings_error(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        return handler(args, settings)
    except (UserError, MissingSetting) as error:
        print(f"glucosestream: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StackError as error:
        print(f"glucosestream: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `glucosestream local status | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
