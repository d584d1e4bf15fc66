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
  that partition (from Firehose or an earlier import) with the same glucose are not written, so
  importing the same file twice adds no rows at all. A reading whose event id is there with another
  glucose value is a conflict: it is written, as the stream would deliver it, so the pipeline's
  ``conflicting_identities`` check reports it (curated keeps the earliest produced copy), and the
  summary counts it. Each file is atomic; a crash between partitions leaves the earlier
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
from glucosestream.ingest.files.readings_csv import iso_utc_seconds
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
    """Readings already in the lake with the same glucose: identical copies, not written."""
    conflicting_with_lake: int = 0
    """Readings whose identity is already in the lake with another glucose value: written (they
    are counted in ``imported``) so the pipeline's conflict check sees them."""
    first_lake_conflict: str | None = None
    repeated: int = 0
    """Copies of a reading the file holds more than once (same identity and glucose), stored
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
            + (
                f", {self.conflicting_with_lake} conflicting with the lake "
                f"(first: {self.first_lake_conflict})"
                if self.conflicting_with_lake
                else ""
            )
            # Not "written once": when the reading was already in the lake nothing was written.
            + (
                f", {self.repeated} repeated copies in the file, stored once"
                if self.repeated
                else ""
            )
            + "".join(f"; {phrase}" for phrase in self.resolved)
        ]
        out.extend(
            f"  skipped {count:>6}: {reason}"
            for reason, count in sorted(self.skipped.items(), key=lambda kv: -kv[1])
        )
        return out

    def record_lake_write(self, result: LakeWrite) -> None:
        self.imported = result.written
        self.already_present = result.already_present
        self.conflicting_with_lake = result.conflicting
        self.first_lake_conflict = result.first_conflict


@dataclass(frozen=True)
class LakeWrite:
    """What :func:`write_to_lake` did."""

    written: int
    """Rows written, conflicting ones included."""
    already_present: int
    """Readings skipped because the partition holds them with the same glucose."""
    conflicting: int = 0
    """Readings written although their event id is in the partition, with another glucose."""
    first_conflict: str | None = None
    """The first conflict (partition order): ``<measured_at UTC> <lake's> vs <file's> mg/dL``."""


def _existing_event_ids(lake: LakeStorage, partition: str) -> dict[str, set[float]]:
    """Each event id in the Parquet objects directly in ``partition`` (a key prefix), with the
    glucose values (mg/dL) its rows hold there: more than one if a conflict already landed."""
    glucose_by_event_id: dict[str, set[float]] = defaultdict(set)
    for item in lake.list(partition):
        name = item.key[len(partition) :]
        # Hidden names are temporaries or staging, which Athena skips too.
        if "/" in name or hidden_from_queries(name) or not name.endswith(PARQUET_SUFFIX):
            continue
        data = pa.BufferReader(lake.read_bytes(item.key))
        table = pq.read_table(data, columns=["event_id", "glucose_mg_dl"])
        for event_id, glucose in zip(
            table.column("event_id").to_pylist(),
            table.column("glucose_mg_dl").to_pylist(),
            strict=True,
        ):
            # A row without glucose is no copy of a reading and no conflict (the pipeline's
            # check ignores it too): the file's reading is written beside it.
            if glucose is not None:
                glucose_by_event_id[str(event_id)].add(glucose)
    return glucose_by_event_id


def write_to_lake(
    readings: Iterable[GlucoseReading],
    lake: LakeStorage,
    raw_prefix: str = "raw/readings/",
    *,
    now_ms: int | None = None,
) -> LakeWrite:
    """Write readings into the raw zone of ``lake``, skipping identical copies already there.

    A reading whose event id the partition holds with another glucose value is written too, as
    the stream would deliver it: skipping it would lose it without a word, while in raw the
    ``conflicting_identities`` check reports it and curated keeps the earliest produced copy.
    ``ingested_at`` is the import time.
    """
    ingested_at = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    by_partition: dict[tuple[str, str], dict[str, GlucoseReading]] = defaultdict(dict)
    for reading in readings:
        # Same identity twice in one file (an overlapping export): keep the first.
        by_partition[partition_of(reading.measured_at)].setdefault(reading.event_id, reading)
    written = present = conflicting = 0
    first_conflict: str | None = None
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(ingested_at / 1000))
    for (dt, hour), group in sorted(by_partition.items()):
        partition = partition_prefix(raw_prefix, dt, hour)
        existing = _existing_event_ids(lake, partition)
        fresh: list[GlucoseReading] = []
        for event_id, reading in group.items():
            lake_values = existing.get(event_id)
            if lake_values is None:
                fresh.append(reading)
            elif reading.glucose_mg_dl in lake_values:
                present += 1
            else:
                conflicting += 1
                if first_conflict is None:
                    lake_value = "/".join(f"{value:g}" for value in sorted(lake_values))
                    first_conflict = (
                        f"{iso_utc_seconds(reading.measured_at)} "
                        f"{lake_value} vs {reading.glucose_mg_dl:g} mg/dL"
                    )
                fresh.append(reading)
        if not fresh:
            continue
        lines = "".join(reading_json(r, ingested_at) + "\n" for r in fresh).encode()
        name = f"{IMPORT_FILE_PREFIX}{stamp}-{uuid.uuid4().hex}{PARQUET_SUFFIX}"
        lake.write_bytes(partition + name, parquet_bytes(table_from_json_lines(lines)))
        written += len(fresh)
    return LakeWrite(written, present, conflicting, first_conflict)


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
        report.record_lake_write(write_to_lake(parsed.readings, lake, raw_prefix, now_ms=now_ms))
    elif publish is not None:
        report.imported = publish(parsed.readings)
    else:
        raise ValueError("import_parsed needs a publisher or a lake")
    return report
