"""Write simulated deliveries to a file: CSV (``id,time,gl`` + the contract's other fields) or an
Avro object container file. Written to a temporary name and renamed, so a failed or interrupted
run never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

import fastavro

from glucosestream.contract.codec import READING_SCHEMA, default_codec
from glucosestream.lake.durable_files import atomic_file, atomic_text_file
from stream.simulator import Delivery

CSV_COLUMNS = (
    "id",
    "time",
    "gl",
    "device_id",
    "session_id",
    "utc_offset_minutes",
    "status",
    "trend",
    "source",
    "event_id",
    "produced_at",
)
"""``id,time,gl`` is the iglu convention (id = pseudonymous patient id, time = ISO 8601 UTC,
gl = mg/dL); the rest are the contract's fields. Rows are in arrival order, duplicates included,
as a device stream delivers them."""

SUFFIXES = (".csv", ".avro")


class OutputError(ValueError):
    """The output path cannot be written as asked."""


def iso_utc(epoch_ms: int) -> str:
    """``2026-01-05T07:30:12.345Z``: ISO 8601, UTC, millisecond precision."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def check_output(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise OutputError(f"{path.name}: the output must end in .csv or .avro")
    if not path.parent.is_dir():
        raise OutputError(f"{path.parent} is not a directory")
    if path.is_dir():
        raise OutputError(f"{path} is a directory")


def write_deliveries(deliveries: Iterable[Delivery], path: Path, seed: int) -> int:
    """Write the deliveries' readings to ``path`` (format by suffix); returns the row count."""
    check_output(path)
    if path.suffix.lower() == ".csv":
        with atomic_text_file(path, newline="", durable=False) as text:
            return _write_csv(deliveries, text)
    with atomic_file(path, durable=False) as binary:
        return _write_avro(deliveries, binary, seed)


def _write_csv(deliveries: Iterable[Delivery], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for delivery in deliveries:
        r = delivery.reading
        writer.writerow(
            (
                r.patient_id,
                iso_utc(r.measured_at),
                r.glucose_mg_dl,
                r.device_id,
                r.session_id,
                r.utc_offset_minutes,
                r.status.value,
                r.trend.value,
                r.source.value,
                r.event_id,
                iso_utc(r.produced_at),
            )
        )
        count += 1
    return count


def _write_avro(deliveries: Iterable[Delivery], out: BinaryIO, seed: int) -> int:
    schema = default_codec().schema(READING_SCHEMA)
    count = 0

    def records() -> Iterator[dict[str, object]]:
        nonlocal count
        for delivery in deliveries:
            count += 1
            yield delivery.reading.to_record()

    # The container's sync marker is random by default; derive it from the seed so that the
    # same seed gives a byte-identical file.
    marker = hashlib.sha256(f"glucosestream-simulate-{seed}".encode()).digest()[:16]
    fastavro.writer(
        out,
        schema.parsed,
        records(),
        codec="deflate",
        sync_marker=marker,
        metadata={"glucosestream.generator": "glucosestream simulate"},
    )
    return count
