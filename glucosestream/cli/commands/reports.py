"""``glucosestream metrics``, ``episodes`` and ``alerts replay``: offline reports over a CSV
(id,time,gl) read in ``--tz``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from glucosestream.cli.errors import UserError
from glucosestream.settings import Settings

if TYPE_CHECKING:
    from glucosestream.ingest.files.readings_csv import CsvInput


def cmd_alerts_replay(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.domain.alerts import AlertConfig
    from glucosestream.reports.alerts_replay import replay_rows, summary

    csv_input = _csv_input(args)
    rows = csv_input.rows
    config = AlertConfig(staleness_ms=settings.alert_staleness_minutes * 60_000)
    alerts = replay_rows(rows, args.output, config)
    print(summary(len(rows), alerts, args.output) + _resolved(csv_input))
    return 0


def _csv_input(args: argparse.Namespace) -> CsvInput:
    """The readings of ``--input`` (in ``--tz``, ``gl`` in ``--units``), once ``--output`` is
    known to be writable."""
    from glucosestream.ingest.files.readings_csv import CsvInputError, read_csv_input

    if _same_file(args.input, args.output):
        raise UserError(
            f"--output {args.output} is the --input file: writing it would destroy the readings; "
            "name another file"
        )
    if not args.output.parent.is_dir():
        raise UserError(f"{args.output.parent} is not a directory")
    if args.output.is_dir():
        raise UserError(f"{args.output} is a directory: --output names the file to write")
    try:
        return read_csv_input(args.input, args.tz, args.units)
    except CsvInputError as error:
        raise UserError(str(error)) from None


def _same_file(input_path: Path, output_path: Path) -> bool:
    """Whether the output would overwrite the input: the same path (links resolved), or the same
    file under another name (a hard link) when both exist."""
    if input_path.resolve() == output_path.resolve():
        return True
    try:
        return os.path.samefile(input_path, output_path)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _resolved(csv_input: CsvInput) -> str:
    """The summary line's tail: what reading local times decided, and conflicts."""
    return "".join(f"; {phrase}" for phrase in csv_input.phrases())


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.local.athena import LocalAthena
    from glucosestream.reports.metrics import PROFILES, profile_metrics, write_metrics

    csv_input = _csv_input(args)
    profile = getattr(args, "profile", "default")
    # One engine thread: the same CSV gives the same metrics.csv, byte for byte (parallel sums
    # combine in varying order); the grid metrics' processes use the other cores meanwhile.
    engine = LocalAthena(memory_limit=settings.local_engine_memory, threads=1)
    metrics = profile_metrics(engine, csv_input.columns, profile)
    write_metrics(metrics, args.output, PROFILES[profile])
    print(
        f"metrics ({profile} profile, {len(PROFILES[profile]) - 1} columns) of {len(metrics)} "
        f"patients from {csv_input.count} rows written to {args.output}" + _resolved(csv_input)
    )
    return 0


def cmd_episodes(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.local.athena import LocalAthena
    from glucosestream.reports.episodes import patient_episodes, write_episodes

    csv_input = _csv_input(args)
    engine = LocalAthena(memory_limit=settings.local_engine_memory)
    found = patient_episodes(engine, csv_input.columns)
    write_episodes(found, args.output)
    patients = len({patient for patient, _ in found})
    print(
        f"{len(found)} episodes of {patients} patients written to {args.output}"
        + _resolved(csv_input)
    )
    return 0
