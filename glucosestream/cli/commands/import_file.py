"""``glucosestream import``: a vendor export or id,time,gl file, published to the stream or
written straight to the local raw zone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from glucosestream.cli.commands.stack_check import require_running_stack
from glucosestream.cli.errors import EXIT_FAILED, UserError
from glucosestream.settings import Settings


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from glucosestream.ingest.files.formats import parse_file
    from glucosestream.ingest.files.importing import import_parsed
    from glucosestream.ingest.files.parsed_file import MalformedFile
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
            unit=args.units,
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

    require_running_stack(settings, ", or write straight to the raw zone with --to-lake")
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
