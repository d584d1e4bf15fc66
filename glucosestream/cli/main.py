"""The ``glucosestream`` command (DESIGN.md §6).

Bad input ends with a one-line reason on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pydantic import ValidationError

from glucosestream.local.processes import StackError
from glucosestream.settings import MissingSetting, Settings, load_settings

if TYPE_CHECKING:
    from glucosestream.ingest.files.readings_csv import CsvInput

T = TypeVar("T")

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class UserError(Exception):
    """Bad input or an impossible request: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _settings_error(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:  # a rule across settings: its message names the variables
        return f"invalid settings: {message}"
    field = ".".join(str(part) for part in first["loc"])
    return f"invalid setting GS_{field.upper()}: {message}"


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
        from glucosestream.local.balance import balance

        status = stack.status(settings)
        document: dict[str, Any] = dict(status.__dict__)
        if status.running:
            document["raw_zone"] = balance(settings).as_dict()
        print(json.dumps(document, indent=2))
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
    from glucosestream.cli.demo import DemoOptions, run_demo

    options = DemoOptions(
        patients=args.patients,
        days=args.days,
        seed=args.seed,
        speed=args.speed,
        duration_s=args.duration,
        pipeline_every_s=args.pipeline_every,
        dashboard_port=args.dashboard_port,
        api_port=args.api_port,
    )
    return run_demo(settings, options)


def _cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.dashboard.server import serve_until_interrupted

    return serve_until_interrupted(settings, args.port)


def _cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from stream.files import OutputError, check_output, write_deliveries
    from stream.simulator import CohortConfig, simulate

    if args.out is not None and args.speed is not None:
        raise UserError("--speed paces publishing; it does not apply to --out")
    if args.out is not None and args.aggregate:
        raise UserError("--aggregate applies to --publish only")
    try:
        config = CohortConfig(
            patients=args.patients,
            days=args.days,
            seed=args.seed,
            pseudonym_key=settings.pseudonym_key_bytes,
            **({"start_ms": args.start} if args.start is not None else {}),
        )
        if args.out is not None:
            check_output(args.out)
    except (ValueError, OutputError) as error:
        raise UserError(str(error)) from None

    progress = tqdm(unit=" readings", unit_scale=True, disable=None, file=sys.stderr)
    deliveries: Iterator[Any] = simulate(config)
    if args.corrupt_devices:
        from stream.corruption import chattering
        from stream.simulator import build_cohort

        if args.corrupt_devices > args.patients:
            raise UserError("--corrupt-devices cannot exceed --patients")
        # 5-minute devices first: three times their cadence is far beyond what a day can hold.
        cohort = sorted(build_cohort(config), key=lambda p: (p.device.value[1], p.index))
        faulty = {p.patient_id for p in cohort[: args.corrupt_devices]}
        deliveries = chattering(deliveries, faulty)
    try:
        if args.out is not None:
            count = write_deliveries(_counted(deliveries, progress), args.out, args.seed)
            progress.close()
            print(f"wrote {count} readings of {args.patients} patients to {args.out}")
            return 0
        return _publish(deliveries, args, settings, progress)
    finally:
        progress.close()


def _counted(items: Iterator[T], progress: Any) -> Iterator[T]:
    for count, item in enumerate(items, 1):
        yield item
        if count % 10_000 == 0:
            progress.update(10_000)


def _publish(
    deliveries: Iterator[Any], args: argparse.Namespace, settings: Settings, progress: Any
) -> int:
    from glucosestream.adapters.kinesis import readings_stream
    from glucosestream.adapters.producer import Producer, PublishError
    from glucosestream.local import stack
    from stream.publishing import publish_deliveries

    if settings.mode == "local" and not stack.status(settings).running:
        raise UserError("the local stack is not running: start it with `glucosestream local up`")
    stream = readings_stream(settings)
    producer = Producer(stream, aggregate=args.aggregate)
    try:
        report = publish_deliveries(deliveries, producer, args.speed, progress.update)
    except PublishError as error:
        print(f"glucosestream: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    progress.close()
    print(
        f"published {report.sent} readings in {report.kinesis_records} Kinesis records "
        f"({report.put_calls} PutRecords calls, {report.retried_entries} retried) "
        f"to {settings.names.readings_stream}"
    )
    return 0


def _cmd_alerts_replay(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.domain.alerts import AlertConfig
    from glucosestream.reports.alerts_replay import replay_rows, summary

    csv_input = _csv_input(args)
    rows = csv_input.rows
    config = AlertConfig(staleness_ms=settings.alert_staleness_minutes * 60_000)
    alerts = replay_rows(rows, args.output, config)
    print(summary(len(rows), alerts, args.output) + _resolved(csv_input))
    return 0


def _csv_input(args: argparse.Namespace) -> CsvInput:
    """The readings of ``--input`` (in ``--tz``), once ``--output`` is known to be writable."""
    from glucosestream.ingest.files.readings_csv import CsvInputError, read_csv_input

    if not args.output.parent.is_dir():
        raise UserError(f"{args.output.parent} is not a directory")
    try:
        return read_csv_input(args.input, args.tz)
    except CsvInputError as error:
        raise UserError(str(error)) from None


def _resolved(csv_input: CsvInput) -> str:
    """The summary line's tail: what reading local times decided, and conflicts."""
    return "".join(f"; {phrase}" for phrase in csv_input.phrases())


def _cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.reports.metrics import patient_metrics, write_metrics

    csv_input = _csv_input(args)
    rows = csv_input.rows
    metrics = patient_metrics(rows)
    write_metrics(metrics, args.output)
    print(
        f"metrics of {len(metrics)} patients from {len(rows)} rows written to {args.output}"
        + _resolved(csv_input)
    )
    return 0


def _cmd_episodes(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.reports.episodes import patient_episodes, write_episodes

    csv_input = _csv_input(args)
    found = patient_episodes(csv_input.rows)
    write_episodes(found, args.output)
    patients = len({patient for patient, _ in found})
    print(
        f"{len(found)} episodes of {patients} patients written to {args.output}"
        + _resolved(csv_input)
    )
    return 0


def _cmd_elt_run(args: argparse.Namespace, settings: Settings) -> int:
    """The pipeline once: locally its ASL runs here; in aws mode the deployed state machine."""
    if settings.mode == "aws":
        from glucosestream.adapters.clients import aws_client
        from glucosestream.adapters.state_machine import StateMachineNotFound, StateMachineRunner

        execution_input: dict[str, Any] = {"full_refresh": args.full_refresh}
        if args.date is not None:
            execution_input["run_date"] = args.date.isoformat()
        if args.as_of is not None:
            execution_input["as_of"] = args.as_of.isoformat()
        runner = StateMachineRunner(
            aws_client("stepfunctions", settings), settings.names.state_machine
        )
        try:
            result = runner.run(execution_input)
        except StateMachineNotFound as missing:
            raise UserError(str(missing)) from None
        name, status, output = result.name, result.status, result.last_state
        error, cause, where = result.error, result.cause, f"state machine {runner.name}"
    else:
        from glucosestream.local.pipeline_runner import run_pipeline

        run = run_pipeline(settings, args.date, full_refresh=args.full_refresh, as_of=args.as_of)
        name, status, output = run.execution.name, run.execution.status, run.last_state
        error, cause, where = run.execution.error, run.execution.cause, str(run.history_file)
    plan = output.get("plan", {})
    print(f"pipeline run {plan.get('run_id', name)}: {status}")
    summary = {**output}
    if "plan" in output:  # the Athena statements are in the history, not on the console
        queries = output["plan"].get("curate_queries", [])
        summary["plan"] = {k: v for k, v in output["plan"].items() if k != "curate_queries"}
        summary["athena"] = {
            "statements": len(queries),
            "states": [q.get("State") for q in output.get("unloaded") or []],
        }
    for step in ("plan", "athena", "curate", "quality", "marts", "commit", "record"):
        if step in summary:
            print(f"  {step:>8}: {json.dumps(summary[step], default=str)}")
    print(f"  history: {where}")
    if status == "SUCCEEDED":
        return 0
    quality = output.get("quality") or {}
    failed = ", ".join(
        f"{f['check']} ({f['failing']} failing, e.g. {', '.join(f['sample'][:2])})"
        for f in quality.get("failed", [])
    )
    reason = f"data-quality gate failed: {failed}" if failed else f"{error}: {cause}"
    print(f"glucosestream: error: pipeline stopped, marts not rebuilt — {reason}", file=sys.stderr)
    return EXIT_FAILED


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from glucosestream.ingest.files.formats import MalformedFile, parse_file
    from glucosestream.ingest.files.importing import import_parsed
    from glucosestream.ingest.files.readings_csv import CsvInputError

    if args.to_lake and settings.mode != "local":
        raise UserError("--to-lake writes the local lake; in aws mode import through the stream")
    now_ms = time.time_ns() // 1_000_000
    try:
        parsed = parse_file(
            args.file,
            args.format,
            patient=args.patient,
            pseudonym_key=settings.pseudonym_key_bytes,
            tz=args.tz,
            now_ms=now_ms,
        )
    except (MalformedFile, CsvInputError) as error:
        raise UserError(f"{error} (nothing imported)") from None
    if args.to_lake:
        from glucosestream.lake.directory import LocalLakeStorage

        report = import_parsed(
            parsed,
            args.file,
            lake=LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket),
            raw_prefix=settings.names.raw_readings_prefix,
            now_ms=now_ms,
        )
    else:
        publish = _import_publisher(settings) if parsed.readings else None
        try:
            report = import_parsed(parsed, args.file, publish=publish or (lambda r: 0))
        except _ImportPublishFailed as error:
            print(f"glucosestream: error: {error}", file=sys.stderr)
            return EXIT_FAILED
    for line in report.lines():
        print(line)
    return 0


class _ImportPublishFailed(RuntimeError):
    pass


def _import_publisher(settings: Settings) -> Callable[[list[Any]], int]:
    from glucosestream.adapters.kinesis import readings_stream
    from glucosestream.adapters.producer import Producer, PublishError
    from glucosestream.local import stack

    if settings.mode == "local" and not stack.status(settings).running:
        raise UserError(
            "the local stack is not running: start it with `glucosestream local up`, "
            "or write straight to the raw zone with --to-lake"
        )
    producer = Producer(readings_stream(settings))

    def publish(readings: list[Any]) -> int:
        try:
            return producer.publish(readings).sent
        except PublishError as error:
            raise _ImportPublishFailed(
                f"{error}; {error.report.sent} of {len(readings)} readings were sent. Run the "
                "import again: the readings keep their identities, so the copies already sent "
                "are removed by the staging dedupe"
            ) from error

    return publish


def _cmd_api_serve(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from glucosestream.ingest.api.auth import AuthConfigError
    from glucosestream.ingest.api.config import (
        LOCAL_API_KEY,
        LOCAL_NIGHTSCOUT_SECRET,
        load_ingest_settings,
    )
    from glucosestream.local.apigateway import serve

    try:
        ingest = load_ingest_settings()
        server = serve(settings, port=args.port, ingest=ingest, log_level=args.log_level)
    except ValidationError as error:
        raise UserError(_settings_error(error).replace("GS_", "GS_INGEST_", 1)) from None
    except AuthConfigError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot listen on port {args.port or ingest.port}: {error}") from None
    print(
        f"ingest API on {server.url} (OpenAPI: {server.url}/openapi.json); Ctrl-C stops it",
        flush=True,
    )
    if settings.mode == "local" and ingest.api_keys is None and ingest.api_keys_file is None:
        print(
            f"  local development key (x-api-key): {LOCAL_API_KEY} (patients 'demo-*')", flush=True
        )
    if settings.mode == "local" and ingest.nightscout_secret is None:
        print(f"  local Nightscout API_SECRET: {LOCAL_NIGHTSCOUT_SECRET}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _cmd_api_hash_key(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.ingest.api.auth import sha256_hex

    key = sys.stdin.readline().strip()
    if len(key) < 16:
        raise UserError("read a key of fewer than 16 characters from stdin: use a long random key")
    print(sha256_hex(key))
    return 0


def _cmd_api_openapi(args: argparse.Namespace, settings: Settings) -> int:
    from consumers.ingest_api.handler import app

    print(app.get_openapi_json_schema())
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="glucosestream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    local = commands.add_parser("local", help="start, stop or inspect the local AWS stack")
    local.add_argument("action", choices=["up", "down", "status"])
    local.set_defaults(handler=_cmd_local)

    settings = commands.add_parser("settings", help="print settings and every resource name")
    settings.set_defaults(handler=_cmd_settings)

    simulate = commands.add_parser(
        "simulate", help="simulate a virtual patient cohort to a file or into Kinesis"
    )
    simulate.add_argument("--patients", type=_positive_int, required=True)
    simulate.add_argument("--days", type=_positive_float, required=True)
    simulate.add_argument("--seed", type=_non_negative_int, default=0)
    simulate.add_argument(
        "--start",
        type=_iso_instant,
        default=None,
        help="first instant, ISO 8601 (naive = UTC); default 2026-01-05",
    )
    simulate.add_argument(
        "--speed",
        type=_positive_float,
        default=None,
        help="with --publish: simulated seconds per wall second (default: as fast as possible)",
    )
    simulate.add_argument(
        "--corrupt-devices",
        type=_non_negative_int,
        default=0,
        help="this many devices chatter (each reading sent 3 times, 20 s apart): data the "
        "quality gate must stop",
    )
    simulate.add_argument(
        "--aggregate",
        action="store_true",
        help="with --publish: KPL-aggregate readings into fewer records",
    )
    target = simulate.add_mutually_exclusive_group(required=True)
    target.add_argument("--publish", action="store_true", help="put readings to Kinesis")
    target.add_argument("--out", type=Path, help="write a .csv or .avro file")
    simulate.set_defaults(handler=_cmd_simulate)

    metrics = commands.add_parser(
        "metrics", help="consensus and variability metrics per patient from a CSV (id,time,gl)"
    )
    metrics.add_argument("--input", type=Path, required=True)
    metrics.add_argument("--output", type=Path, required=True, help="one row per patient")
    metrics.add_argument("--tz", default="UTC", help="time zone of naive times (default UTC)")
    metrics.set_defaults(handler=_cmd_metrics)

    episodes = commands.add_parser(
        "episodes", help="hypo- and hyperglycaemic episodes per patient from a CSV (id,time,gl)"
    )
    episodes.add_argument("--input", type=Path, required=True)
    episodes.add_argument("--output", type=Path, required=True, help="one row per episode")
    episodes.add_argument("--tz", default="UTC", help="time zone of naive times (default UTC)")
    episodes.set_defaults(handler=_cmd_episodes)

    elt = commands.add_parser("elt", help="the ELT over the local lake: raw -> curated -> marts")
    elt_commands = elt.add_subparsers(dest="elt_command", required=True, parser_class=_Parser)
    elt_run = elt_commands.add_parser(
        "run", help="rebuild what changed since the last run and the marts of the period"
    )
    elt_run.add_argument(
        "--date",
        type=_iso_date,
        default=None,
        help="end of the 14-day period (default: the newest raw day)",
    )
    elt_run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every partition, not only the changed ones",
    )
    elt_run.add_argument(
        "--as-of",
        type=_iso_datetime,
        default=None,
        help="'now' for the data-quality check of future timestamps, ISO 8601 (naive = UTC; "
        "default: the wall clock); for simulated data measured ahead of it",
    )
    elt_run.set_defaults(handler=_cmd_elt_run)

    alerts = commands.add_parser("alerts", help="the real-time alert engine, offline")
    alert_commands = alerts.add_subparsers(
        dest="alerts_command", required=True, parser_class=_Parser
    )
    replay = alert_commands.add_parser(
        "replay", help="run the alert engine over a CSV (id,time,gl) in event-time order"
    )
    replay.add_argument("--input", type=Path, required=True)
    replay.add_argument("--output", type=Path, required=True, help="alerts, one JSON per line")
    replay.add_argument("--tz", default="UTC", help="time zone of naive times (default UTC)")
    replay.set_defaults(handler=_cmd_alerts_replay)

    importer = commands.add_parser(
        "import",
        help="import a Dexcom Clarity, LibreView, Nightscout JSON or id,time,gl file",
    )
    importer.add_argument("file", type=Path, help="the export file")
    importer.add_argument(
        "--format",
        choices=["auto", "dexcom", "libre", "nightscout", "csv"],
        default="auto",
        help="file format (default: detected)",
    )
    importer.add_argument(
        "--patient",
        default=None,
        help="source patient id of a one-person export (Dexcom, Libre, Nightscout); "
        "stored only as its pseudonym",
    )
    importer.add_argument(
        "--tz", type=_time_zone, default="UTC", help="time zone of local times (default UTC)"
    )
    importer.add_argument(
        "--to-lake",
        action="store_true",
        help="write straight to the raw zone (skipping readings already there) instead of "
        "publishing to the stream",
    )
    importer.set_defaults(handler=_cmd_import)

    api = commands.add_parser("api", help="the ingest API (REST and Nightscout-compatible)")
    api_commands = api.add_subparsers(dest="api_command", required=True, parser_class=_Parser)
    api_serve = api_commands.add_parser("serve", help="serve the ingest API on 127.0.0.1")
    api_serve.add_argument(
        "--port", type=_port, default=None, help="TCP port (default GS_INGEST_PORT, 4570)"
    )
    api_serve.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="WARNING",
        help="the handler's JSON log on stdout (default WARNING; INFO logs every request)",
    )
    api_serve.set_defaults(handler=_cmd_api_serve)
    api_hash = api_commands.add_parser(
        "hash-key", help="read an API key on stdin, print its SHA-256 for the key file"
    )
    api_hash.set_defaults(handler=_cmd_api_hash_key)
    api_openapi = api_commands.add_parser("openapi", help="print the OpenAPI document")
    api_openapi.set_defaults(handler=_cmd_api_openapi)

    demo = commands.add_parser("demo", help="the main job on one machine (what `make run` runs)")
    demo.add_argument(
        "--patients",
        type=_positive_int,
        default=50,
        help="simulated patients: type 1, type 2 and no diabetes (default 50)",
    )
    demo.add_argument(
        "--days",
        type=_positive_float,
        default=14.0,
        help="backfill: days of readings published before the live stream (default 14)",
    )
    demo.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=120.0,
        help="live stream: simulated seconds per wall second (default 120)",
    )
    demo.add_argument(
        "--duration",
        type=_non_negative_float,
        default=None,
        help="seconds to keep running after the sample (default: until Ctrl-C)",
    )
    demo.add_argument(
        "--pipeline-every",
        type=_non_negative_float,
        default=60.0,
        help="seconds between ELT pipeline runs (default 60; 0 = never)",
    )
    demo.add_argument(
        "--dashboard-port",
        type=_port_or_off,
        default=5006,
        help="serve the dashboard on 127.0.0.1:PORT (default 5006; 0 = not served)",
    )
    demo.add_argument(
        "--api-port",
        type=_port_or_off,
        default=None,
        help="serve the ingest API on 127.0.0.1:PORT (default: GS_INGEST_PORT, 4570; 0 = off)",
    )
    demo.set_defaults(handler=_cmd_demo)

    dashboard = commands.add_parser("dashboard", help="serve the Bokeh dashboard on 127.0.0.1")
    dashboard.add_argument("--port", type=_port, default=5006, help="TCP port (default 5006)")
    dashboard.set_defaults(handler=_cmd_dashboard)
    return parser


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _port_or_off(text: str) -> int:
    return 0 if text.strip() == "0" else _port(text)


def _port(text: str) -> int:
    value = _whole_number(text)
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port within 1024-65535")
    return value


def _time_zone(text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {text!r}") from None
    return text


def _non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _iso_instant(text: str) -> int:
    """ISO 8601 instant as UTC epoch milliseconds; a naive time is taken as UTC."""
    return round(_iso_datetime(text).timestamp() * 1000)


def _iso_datetime(text: str) -> datetime:
    """ISO 8601 instant, aware (a naive time is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
