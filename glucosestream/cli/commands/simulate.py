"""``glucosestream simulate``: a virtual patient cohort written to a file or published to
Kinesis."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any, TypeVar

from glucosestream.cli.commands.stack_check import require_running_stack
from glucosestream.cli.errors import EXIT_FAILED, UserError
from glucosestream.settings import Settings

T = TypeVar("T")


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
