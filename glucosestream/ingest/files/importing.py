"""``glucosestream import FILE``: a whole export file → the stream, or straight into the raw zone.

The file is parsed completely first (:func:`~glucosestream.ingest.files.formats.parse_file`): a
malformed file raises before anything is sent. Then:

* **through Kinesis** (default): the readings go through the producer, like every live reading.
  Re-importing a file sends its readings again; they carry the same identities (patient pseudonym,
  device, measured_at) and event ids, so the raw zone holds both copies and the staging layer
  keeps one per identity (curated and marts are unchanged). Alerts are not re-raised: the engine
  fires once per episode, and readings arriving late never page.
* **--to-lake**: Parquet objects written directly under ``raw/readings/dt=/hour=`` with the raw
  table's schema, one per partition, named ``import-…``, through the lake storage port (the CLI
  passes the local lake directory). Readings whose event id is already in
  that partition (from Firehose or an earlier import) are not written, so importing the same file
  twice adds no rows at all. Each file is atomic; a crash between partitions leaves the earlier
  ones written, and running the import again completes the rest without duplicating them. These
  rows never went through the stream, so ``glucosestream local status`` counts them as extra
  rows beyond the stream's ("redelivered").
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.domain.reading import GlucoseReading
from glucosestream.ingest.files.parsed_file import ParsedFile
from glucosestream.lake.raw_zone.files import (
    PARQUET_SUFFIX,
    parquet_bytes,
    partition_prefix,
    table_from_json_lines,
)
from glucosestream.lake.raw_zone.transform import partition_of, reading_json
from glucosestream.lake.storage import LakeStorage, hidden_from_queries

IMPORT_FILE_PREFIX = "import-"


class ImportFailed(RuntimeError):
    """Publishing stopped part-way; the message says how many readings got through."""


@dataclass
class ImportReport:
    path: Path
    format: str
    rows_read: int
    readings: int
    imported: int
    destination: str
    already_present: int = 0
    repeated: int = 0
    """Copies of a reading the file holds more than once (same identity and glucose), written
    once. Readings of one identity with different glucose are conflicts, reported as such."""
    skipped: dict[str, int] = field(default_factory=dict)
    resolved: list[str] = field(default_factory=list)
    """What converting the file's times decided (daylight saving) and conflicts it holds."""

    def lines(self) -> list[str]:
        out = [
            f"{self.path}: {self.format} export, {self.rows_read} rows read, "
            f"{self.readings} readings, {self.imported} imported to {self.destination}, "
            f"{sum(self.skipped.values())} skipped"
            + (f", {self.already_present} already in the lake" if self.already_present else "")
            + (f", {self.repeated} repeated copies written once" if self.repeated else "")
            + "".join(f"; {phrase}" for phrase in self.resolved)
        ]
        out.extend(
            f"  skipped {count:>6}: {reason}"
            for reason, count in sorted(self.skipped.items(), key=lambda kv: -kv[1])
        )
        return out


def _existing_event_ids(lake: LakeStorage, partition: str) -> set[str]:
    """Event ids in the Parquet objects directly in ``partition`` (a key prefix)."""
    ids: set[str] = set()
    for item in lake.list(partition):
        name = item.key[len(partition) :]
        # Hidden names are temporaries or staging, which Athena skips too.
        if "/" in name or hidden_from_queries(name) or not name.endswith(PARQUET_SUFFIX):
            continue
        data = pa.BufferReader(lake.read_bytes(item.key))
        column = pq.read_table(data, columns=["event_id"]).column("event_id")
        ids.update(str(value) for value in column.to_pylist())
    return ids


def write_to_lake(
    readings: Iterable[GlucoseReading],
    lake: LakeStorage,
    raw_prefix: str = "raw/readings/",
    *,
    now_ms: int | None = None,
) -> tuple[int, int]:
    """Write readings into the raw zone of ``lake``, skipping identities already there.

    Returns ``(written, already_present)``; ``ingested_at`` is the import time.
    """
    ingested_at = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    by_partition: dict[tuple[str, str], dict[str, GlucoseReading]] = defaultdict(dict)
    for reading in readings:
        # Same identity twice in one file (an overlapping export): keep the first.
        by_partition[partition_of(reading.measured_at)].setdefault(reading.event_id, reading)
    written = present = 0
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(ingested_at / 1000))
    for (dt, hour), group in sorted(by_partition.items()):
        partition = partition_prefix(raw_prefix, dt, hour)
        existing = _existing_event_ids(lake, partition)
        fresh = [r for event_id, r in group.items() if event_id not in existing]
        present += len(group) - len(fresh)
        if not fresh:
            continue
        lines = "".join(reading_json(r, ingested_at) + "\n" for r in fresh).encode()
        name = f"{IMPORT_FILE_PREFIX}{stamp}-{uuid.uuid4().hex}{PARQUET_SUFFIX}"
        lake.write_bytes(partition + name, parquet_bytes(table_from_json_lines(lines)))
        written += len(fresh)
    return written, present


def _repeated_copies(readings: list[GlucoseReading]) -> int:
    """Readings that repeat an earlier one exactly (identity and glucose): an overlapping export.
    A different value at the same identity is another reading, lost to the conflict: calling it
    a copy would hide that."""
    return len(readings) - len({(r.event_id, r.glucose_mg_dl) for r in readings})


def import_parsed(
    parsed: ParsedFile,
    path: Path,
    *,
    publish: Callable[[list[GlucoseReading]], int] | None = None,
    lake: LakeStorage | None = None,
    raw_prefix: str = "raw/readings/",
    now_ms: int | None = None,
) -> ImportReport:
    """Send a parsed file to the stream (``publish`` returns how many were sent) or the lake."""
    report = ImportReport(
        path=path,
        format=parsed.format,
        rows_read=parsed.rows_read,
        readings=len(parsed.readings),
        imported=0,
        destination="the raw zone" if lake is not None else "the readings stream",
        skipped=dict(parsed.skip_reasons()),
        resolved=parsed.phrases(),
    )
    if not parsed.readings:
        return report
    if lake is not None:
        report.repeated = _repeated_copies(parsed.readings)
        report.imported, report.already_present = write_to_lake(
            parsed.readings, lake, raw_prefix, now_ms=now_ms
        )
    elif publish is not None:
        report.imported = publish(parsed.readings)
    else:
        raise ValueError("import_parsed needs a publisher or a lake")
    return report
