"""The ``glucosestream`` command (DESIGN.md §6).

Bad input ends with a one-line reason on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from pydantic import ValidationError

from glucosestream.local.processes import StackError
from glucosestream.settings import Settings, load_settings

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class UserError(Exception):
    """Bad input or an impossible request: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _settings_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "settings"
    env_name = f"GS_{field.upper()}" if first["loc"] else "settings"
    return f"invalid setting {env_name}: {first['msg']}"


def _cmd_local(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.local import stack

    if args.action == "up":
        status = stack.up(settings)
        for name, endpoint in status.endpoints.items():
            print(f"{name:>18}: {endpoint}")
        print(f"local stack is up (state in {settings.state_dir})")
    elif args.action == "down":
        stopped = stack.down(settings)
        print(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")
    else:
        status = stack.status(settings)
        print(json.dumps(status.__dict__, indent=2))
        return 0 if status.running else 3
    return 0


def _cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    document = {
        "settings": json.loads(settings.model_dump_json()),
        "resource_names": settings.names.as_dict(),
    }
    print(json.dumps(document, indent=2, default=str))
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.demo import DemoOptions, run_demo

    options = DemoOptions(
        patients=args.patients, days=args.days, seed=args.seed, duration_s=args.duration
    )
    return run_demo(settings, options)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="glucosestream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    local = commands.add_parser("local", help="start, stop or inspect the local AWS stack")
    local.add_argument("action", choices=["up", "down", "status"])
    local.set_defaults(handler=_cmd_local)

    settings = commands.add_parser("settings", help="print settings and every resource name")
    settings.set_defaults(handler=_cmd_settings)

    demo = commands.add_parser("demo", help="the main job on one machine (what `make run` runs)")
    demo.add_argument(
        "--patients", type=_positive_int, default=20, help="simulated patients (default 20)"
    )
    demo.add_argument(
        "--days", type=_positive_float, default=1.0, help="days of readings per patient (default 1)"
    )
    demo.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    demo.add_argument(
        "--duration",
        type=_non_negative_float,
        default=None,
        help="seconds to keep running after the sample (default: until Ctrl-C)",
    )
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a positive finite number")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number >= 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        print(f"glucosestream: error: {_settings_error(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        return handler(args, settings)
    except UserError as error:
        print(f"glucosestream: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StackError as error:
        print(f"glucosestream: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
