"""The ``glucosestream`` command line: every command, its arguments and its handler."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from glucosestream.cli.commands import (
    alert_controls,
    api,
    dashboard,
    demo,
    elt,
    import_file,
    local,
    reports,
    simulate,
)
from glucosestream.cli.commands import settings as settings_command
from glucosestream.cli.errors import EXIT_BAD_INPUT
from glucosestream.cli.types import (
    glucose_unit,
    iso_date,
    iso_datetime,
    iso_instant,
    non_negative_float,
    non_negative_int,
    port,
    port_or_off,
    positive_float,
    positive_int,
    source_patient_id,
    time_zone,
)

DESCRIPTION = """The ``glucosestream`` command (DESIGN.md §6).

Bad input ends with a one-line reason on stderr and a non-zero exit status.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="glucosestream", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    local_parser = commands.add_parser("local", help="start, stop or inspect the local AWS stack")
    local_parser.add_argument("action", choices=["up", "down", "status"])
    local_parser.set_defaults(handler=local.cmd_local)

    settings = commands.add_parser("settings", help="print settings and every resource name")
    settings.set_defaults(handler=settings_command.cmd_settings)

    simulate_parser = commands.add_parser(
        "simulate", help="simulate a virtual patient cohort to a file or into Kinesis"
    )
    simulate_parser.add_argument("--patients", type=positive_int, required=True)
    simulate_parser.add_argument("--days", type=positive_float, required=True)
    simulate_parser.add_argument("--seed", type=non_negative_int, default=0)
    simulate_parser.add_argument(
        "--start",
        type=iso_instant,
        default=None,
        help="first instant, ISO 8601 (naive = UTC); default 2026-01-05",
    )
    simulate_parser.add_argument(
        "--speed",
        type=positive_float,
        default=None,
        help="with --publish: simulated seconds per wall second (default: as fast as possible)",
    )
    simulate_parser.add_argument(
        "--corrupt-devices",
        type=non_negative_int,
        default=0,
        help="this many devices chatter (each reading sent 3 times, 20 s apart): data the "
        "quality gate must stop",
    )
    simulate_parser.add_argument(
        "--aggregate",
        action="store_true",
        help="with --publish: KPL-aggregate readings into fewer records",
    )
    simulate_parser.add_argument(
        "--truth",
        type=Path,
        help="also write each reading's ground truth (interstitial and plasma glucose, artefact "
        "label) to a .csv or .parquet file keyed by event_id; readings echoed by "
        "--corrupt-devices have no truth rows",
    )
    target = simulate_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--publish", action="store_true", help="put readings to Kinesis")
    target.add_argument("--out", type=Path, help="write a .csv or .avro file")
    simulate_parser.set_defaults(handler=simulate.cmd_simulate)

    metrics = commands.add_parser(
        "metrics", help="consensus and variability metrics per patient from a CSV (id,time,gl)"
    )
    _csv_report_arguments(metrics, output_help="one row per patient")
    metrics.add_argument(
        "--profile",
        choices=("default", "iglu"),
        default="default",
        help="default: the 32 consensus columns of DESIGN.md §6; iglu: every output of every "
        "R iglu 4.3.0 metric function at its default arguments, named <function>.<output>",
    )
    metrics.set_defaults(handler=reports.cmd_metrics)

    episodes = commands.add_parser(
        "episodes", help="hypo- and hyperglycaemic episodes per patient from a CSV (id,time,gl)"
    )
    _csv_report_arguments(episodes, output_help="one row per episode")
    episodes.set_defaults(handler=reports.cmd_episodes)

    elt_parser = commands.add_parser(
        "elt", help="the ELT over the local lake: raw -> curated -> marts"
    )
    elt_commands = elt_parser.add_subparsers(
        dest="elt_command", required=True, parser_class=_Parser
    )
    elt_run = elt_commands.add_parser(
        "run", help="rebuild what changed since the last run and the marts of the period"
    )
    elt_run.add_argument(
        "--date",
        type=iso_date,
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
        type=iso_datetime,
        default=None,
        help="'now' for the data-quality check of future timestamps, ISO 8601 (naive = UTC; "
        "default: the wall clock); for simulated data measured ahead of it",
    )
    elt_run.set_defaults(handler=elt.cmd_elt_run)

    alerts = commands.add_parser(
        "alerts", help="the real-time alert engine offline; a patient's settings and acks"
    )
    alert_commands = alerts.add_subparsers(
        dest="alerts_command", required=True, parser_class=_Parser
    )
    replay = alert_commands.add_parser(
        "replay", help="run the alert engine over a CSV (id,time,gl) in event-time order"
    )
    _csv_report_arguments(replay, output_help="alerts, one JSON per line")
    replay.set_defaults(handler=reports.cmd_alerts_replay)

    patient_settings = alert_commands.add_parser(
        "settings",
        help="show or change a patient's alert settings (applied from the next reading)",
        description="Without a change, prints the settings. A value out of its allowed range "
        "exits 2 with the range, and nothing is changed.",
    )
    alert_controls.add_patient_arguments(patient_settings)
    patient_settings.add_argument("--low", type=int, help="LOW threshold, 60-100 mg/dL")
    patient_settings.add_argument("--high", type=int, help="HIGH threshold, 120-400 mg/dL")
    patient_settings.add_argument("--high-alerts", choices=["on", "off"], help="HIGH alerts")
    patient_settings.add_argument(
        "--quiet-hours",
        help="HH:MM-HH:MM in the patient's local time (LOW, HIGH, RECOVERED silenced; urgent "
        "alerts never), or off",
    )
    patient_settings.set_defaults(handler=alert_controls.cmd_alert_settings)

    ack = alert_commands.add_parser(
        "ack", help="acknowledge an alert (an acknowledged urgent low stops repeating)"
    )
    ack.add_argument("alert_id", help="the alert's id (32 hex digits)")
    alert_controls.add_patient_arguments(ack)
    ack.add_argument("--by", default=alert_controls.default_acknowledger(), help="who acknowledges")
    ack.set_defaults(handler=alert_controls.cmd_alert_ack)

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
        type=source_patient_id,
        default=None,
        help="source patient id of a one-person export (Dexcom, Libre, Nightscout); "
        "stored only as its pseudonym",
    )
    importer.add_argument(
        "--tz", type=time_zone, default="UTC", help="time zone of local times (default UTC)"
    )
    # No default: a vendor export names its unit, and --units given for one is refused.
    _units_argument(importer, None, "unit of an id,time,gl CSV's gl column")
    importer.add_argument(
        "--to-lake",
        action="store_true",
        help="write straight to the raw zone (skipping readings already there) instead of "
        "publishing to the stream",
    )
    importer.set_defaults(handler=import_file.cmd_import)

    api_parser = commands.add_parser("api", help="the ingest API (REST and Nightscout-compatible)")
    api_commands = api_parser.add_subparsers(
        dest="api_command", required=True, parser_class=_Parser
    )
    api_serve = api_commands.add_parser("serve", help="serve the ingest API on 127.0.0.1")
    api_serve.add_argument(
        "--port", type=port, default=None, help="TCP port (default GS_INGEST_PORT, 4570)"
    )
    api_serve.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="WARNING",
        help="the handler's JSON log on stdout (default WARNING; INFO logs every request)",
    )
    api_serve.set_defaults(handler=api.cmd_api_serve)
    api_hash = api_commands.add_parser(
        "hash-key", help="read an API key on stdin, print its SHA-256 for the key file"
    )
    api_hash.set_defaults(handler=api.cmd_api_hash_key)
    api_token = api_commands.add_parser(
        "nightscout-token",
        help="print the Nightscout access token of a name in GS_INGEST_NIGHTSCOUT_TOKENS",
    )
    api_token.add_argument("name", help="the token's subject name, e.g. follower")
    api_token.set_defaults(handler=api.cmd_api_nightscout_token)
    api_openapi = api_commands.add_parser("openapi", help="print the OpenAPI document")
    api_openapi.set_defaults(handler=api.cmd_api_openapi)

    demo_parser = commands.add_parser(
        "demo", help="the main job on one machine (what `make run` runs)"
    )
    demo_parser.add_argument(
        "--patients",
        type=positive_int,
        default=50,
        help="simulated patients: type 1, type 2 and no diabetes (default 50)",
    )
    demo_parser.add_argument(
        "--days",
        type=positive_float,
        default=14.0,
        help="backfill: days of readings published before the live stream (default 14)",
    )
    demo_parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    demo_parser.add_argument(
        "--speed",
        type=positive_float,
        default=120.0,
        help="live stream: simulated seconds per wall second (default 120)",
    )
    demo_parser.add_argument(
        "--duration",
        type=non_negative_float,
        default=None,
        help="seconds to keep running after the sample (default: until Ctrl-C)",
    )
    demo_parser.add_argument(
        "--pipeline-every",
        type=non_negative_float,
        default=60.0,
        help="seconds between ELT pipeline runs (default 60; 0 = never)",
    )
    demo_parser.add_argument(
        "--dashboard-port",
        type=port_or_off,
        default=5006,
        help="serve the dashboard on 127.0.0.1:PORT (default 5006; 0 = not served)",
    )
    demo_parser.add_argument(
        "--api-port",
        type=port_or_off,
        default=None,
        help="serve the ingest API on 127.0.0.1:PORT (default: GS_INGEST_PORT, 4570; 0 = off)",
    )
    demo_parser.add_argument(
        "--consumer",
        choices=("lambda", "kcl"),
        default="lambda",
        help="the alerts consumer: the Lambda handler behind the local event-source mapping "
        "(default), or the Kinesis Client Library application (needs Java and nghttpx: "
        "`make setup-kcl`)",
    )
    demo_parser.set_defaults(handler=demo.cmd_demo)

    dashboard_parser = commands.add_parser(
        "dashboard", help="serve the Bokeh dashboard on 127.0.0.1"
    )
    dashboard_parser.add_argument("--port", type=port, default=5006, help="TCP port (default 5006)")
    dashboard_parser.set_defaults(handler=dashboard.cmd_dashboard)
    return parser


def _csv_report_arguments(parser: argparse.ArgumentParser, output_help: str) -> None:
    """The arguments every report over an ``id,time,gl`` CSV takes."""
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True, help=output_help)
    parser.add_argument("--tz", default="UTC", help="time zone of naive times (default UTC)")
    _units_argument(parser, "mg/dL", "unit of the gl column")


def _units_argument(parser: argparse.ArgumentParser, default: str | None, what: str) -> None:
    """``--units``: what an ``id,time,gl`` CSV's ``gl`` is in (mg/dL unless told)."""
    parser.add_argument(
        "--units",
        type=glucose_unit,
        default=default,
        metavar="mg/dL|mmol/L",
        help=f"{what} (default mg/dL); mmol/L is converted to whole mg/dL (x 18.016). A mg/dL "
        "file whose values are all <= 35 is refused: it is mmol/L",
    )
