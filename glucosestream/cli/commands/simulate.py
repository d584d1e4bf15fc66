"""``glucosestream simulate``: a virtual patient cohort written to a file or published to
Kinesis."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from glucosestream.cli.commands.stack_check import require_running_stack
from glucosestream.cli.errors import EXIT_FAILED, UserError
from glucosestream.settings import Settings

T = TypeVar("T")

EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
"""Simulated readings are timed in milliseconds since the Unix epoch, from this instant on."""
LATEST_END = datetime(9999, 12, 1, tzinfo=UTC)
"""The simulated period must end by this instant: the simulator looks up each zone's clock up to
3 days beyond the period, in local times up to 14 hours ahead of UTC, and dates end with 9999."""
_DAY = timedelta(days=1)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from stream.files import (
        TRUTH_SUFFIXES,
        OutputError,
        check_output,
        write_deliveries,
        write_truth,
    )
    from stream.simulator import CohortConfig, ground_truth, simulate

    if args.out is not None and args.speed is not None:
        raise UserError("--speed paces publishing; it does not apply to --out")
    if args.out is not None and args.aggregate:
        raise UserError("--aggregate applies to --publish only")
    _check_period(args.start, args.days)
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
        if args.truth is not None:
            check_output(args.truth, TRUTH_SUFFIXES)
            if args.out is not None and args.truth.resolve() == args.out.resolve():
                raise UserError("--truth and --out must be different files")
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
            outcome = 0
        else:
            outcome = _publish(deliveries, args, settings, progress)
    finally:
        progress.close()
    if args.truth is not None and outcome == 0:
        # A second pass of the same seeded simulation: the same readings, without transport.
        truths = write_truth(ground_truth(config), args.truth)
        print(f"wrote the ground truth of {truths} readings to {args.truth}")
    return outcome


def _check_period(start_ms: int | None, days: float) -> None:
    """Refuse a period the simulator cannot time, in the words of the command line."""
    from stream.simulator.config import DEFAULT_START_MS

    start_ms = DEFAULT_START_MS if start_ms is None else start_ms
    if start_ms < 0:
        raise UserError(
            f"--start {_utc(start_ms)} is before {EARLIEST_START:%Y-%m-%dT%H:%M:%SZ}: simulated "
            "readings are timed from the Unix epoch"
        )
    most_days = (LATEST_END - EARLIEST_START - timedelta(milliseconds=start_ms)) / _DAY
    if days > most_days:
        room = (
            # Rounded down: the bound itself is a period that is accepted.
            f"from that start --days is at most {math.floor(most_days * 1000) / 1000:.10g}"
            if most_days > 0
            else "--start must be earlier"
        )
        raise UserError(
            f"--days {days:g} from --start {_utc(start_ms)} ends after "
            f"{LATEST_END:%Y-%m-%dT%H:%M:%SZ}: the simulated period must end by then; {room}"
        )


def _utc(epoch_ms: int) -> str:
    try:
        return f"{EARLIEST_START + timedelta(milliseconds=epoch_ms):%Y-%m-%dT%H:%M:%SZ}"
    except OverflowError:  # an offset put it past 9999-12-31 in UTC
        return "10000-01-01T00:00:00Z or later"


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
    from stream.publishing import publish_deliveries

    require_running_stack(settings)
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
