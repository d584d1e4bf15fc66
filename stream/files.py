"""Write simulated deliveries to a file: CSV (``id,time,gl`` + the contract's other fields) or an
Avro object container file; and their ground truth to a side file (CSV or Parquet) keyed by
``event_id``. Written to a temporary name and renamed, so a failed or interrupted run never
leaves a half-written file under the requested name.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.contract.codec import READING_SCHEMA, default_codec
from glucosestream.lake.durable_files import atomic_file, atomic_text_file
from stream.simulator import Delivery, TruthRow

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

TRUTH_COLUMNS = (
    "event_id",
    "id",
    "time",
    "gl",
    "status",
    "interstitial_mg_dl",
    "plasma_mg_dl",
    "artefact",
    "after_signal_loss",
)
"""The ground-truth side file: the reading's ``event_id`` (to join the readings file), its
``id,time,gl`` as in the readings file (gl reported), then what the simulator knows and the
contract does not (glucose to 0.1 mg/dL; artefact as :class:`~stream.simulator.Artefact`)."""

TRUTH_SUFFIXES = (".csv", ".parquet")
TRUTH_BATCH_ROWS = 65_536


class OutputError(ValueError):
    """The output path cannot be written as asked."""


def iso_utc(epoch_ms: int) -> str:
    """``2026-01-05T07:30:12.345Z``: ISO 8601, UTC, millisecond precision."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def check_output(path: Path, suffixes: tuple[str, ...] = SUFFIXES) -> None:
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"{path.name}: the output must end in {' or '.join(suffixes)}")
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


def write_truth(rows: Iterable[TruthRow], path: Path) -> int:
    """Write ground-truth rows to ``path`` (.csv or .parquet, by suffix); returns the row count."""
    check_output(path, TRUTH_SUFFIXES)
    if path.suffix.lower() == ".csv":
        with atomic_text_file(path, newline="", durable=False) as text:
            return _write_truth_csv(rows, text)
    with atomic_file(path, durable=False) as binary:
        return _write_truth_parquet(rows, binary)


def _write_truth_csv(rows: Iterable[TruthRow], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRUTH_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            (
                row.event_id,
                row.patient_id,
                iso_utc(row.measured_at),
                row.glucose_mg_dl,
                row.status.value,
                f"{row.interstitial_mg_dl:.1f}",
                f"{row.plasma_mg_dl:.1f}",
                row.artefact.value,
                "true" if row.after_signal_loss else "false",
            )
        )
        count += 1
    return count


TRUTH_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("id", pa.string()),
        ("time", pa.timestamp("ms", tz="UTC")),
        ("gl", pa.int32()),
        ("status", pa.string()),
        ("interstitial_mg_dl", pa.float64()),
        ("plasma_mg_dl", pa.float64()),
        ("artefact", pa.string()),
        ("after_signal_loss", pa.bool_()),
    ]
)


def _write_truth_parquet(rows: Iterable[TruthRow], out: BinaryIO) -> int:
    count = 0
    with pq.ParquetWriter(out, TRUTH_SCHEMA) as writer:
        batch: list[TruthRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) == TRUTH_BATCH_ROWS:
                writer.write_table(_truth_table(batch))
                count += len(batch)
                batch = []
        if batch or not count:
            writer.write_table(_truth_table(batch))
            count += len(batch)
    return count


def _truth_table(rows: list[TruthRow]) -> pa.Table:
    return pa.table(
        {
            "event_id": [r.event_id for r in rows],
            "id": [r.patient_id for r in rows],
            "time": [r.measured_at for r in rows],
            "gl": [r.glucose_mg_dl for r in rows],
            "status": [r.status.value for r in rows],
            "interstitial_mg_dl": [r.interstitial_mg_dl for r in rows],
            "plasma_mg_dl": [r.plasma_mg_dl for r in rows],
            "artefact": [r.artefact.value for r in rows],
            "after_signal_loss": [r.after_signal_loss for r in rows],
        },
        schema=TRUTH_SCHEMA,
    )
