"""Durable, atomic files in the local lake: raw Parquet, error JSON lines, and their counts.

A file appears under its final name only once its bytes are on disk: it is written under a hidden
temporary name, fsynced, renamed, and the directory is fsynced (a rename is durable only once the
directory entry is). Readers globbing ``*.parquet`` never see a partial file; a crash leaves at
most a hidden temporary, which :func:`remove_temporaries` deletes on the next start.

:func:`parquet_bytes` and :func:`json_lines_bytes` give the same contents as bytes, for writers
that go through the lake storage port (the Firehose stand-in, ``import --to-lake``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from glucosestream.lake.durable_files import make_directories, write_atomically
from glucosestream.lake.raw_zone.schema import Column, json_schema, parquet_schema, reading_columns

TEMPORARY_PREFIX = ".gs-tmp-"
PARQUET_SUFFIX = ".parquet"
ERRORS_SUFFIX = ".jsonl"
COMPRESSIONS = ("zstd", "snappy")

# Big enough for any buffer's JSON lines in one block: pyarrow parses a block per thread.
_JSON_BLOCK_BYTES = 16 * 1024 * 1024


def _write_file(path: Path, data: bytes) -> Path:
    """Create ``path`` holding ``data``, durably and atomically; returns ``path``."""
    make_directories(path.parent)
    # Hidden, and not ending in .parquet: no reader's glob ever matches a partial file.
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}-{path.name}.tmp")
    write_atomically(path, data, temporary=temporary)
    return path


def remove_temporaries(root: Path) -> int:
    """Delete the temporaries a crash left under ``root``; returns how many."""
    removed = 0
    if root.is_dir():
        for leftover in root.rglob(f"{TEMPORARY_PREFIX}*"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def partition_directory(root: Path, prefix: str, dt: str, hour: str) -> Path:
    """``<root>/<prefix>dt=<dt>/hour=<hour>``, the Hive layout Firehose's prefix produces."""
    return root / prefix / f"dt={dt}" / f"hour={hour}"


def partition_prefix(prefix: str, dt: str, hour: str) -> str:
    """``<prefix>dt=<dt>/hour=<hour>/``: the same layout as lake keys (``prefix`` ends in ``/``)."""
    return f"{prefix}dt={dt}/hour={hour}/"


def table_from_json_lines(data: bytes, columns: Iterable[Column] | None = None) -> pa.Table:
    """The transform's JSON lines as a table of the raw Parquet schema.

    Like Firehose's record format conversion, the schema drives the conversion: an unknown key,
    a value of the wrong type or out of its type's range raises ``pyarrow.ArrowInvalid``.
    """
    columns = tuple(columns) if columns is not None else reading_columns()
    table = pa_json.read_json(
        pa.BufferReader(data),
        read_options=pa_json.ReadOptions(block_size=max(_JSON_BLOCK_BYTES, len(data) + 1)),
        parse_options=pa_json.ParseOptions(
            explicit_schema=json_schema(columns), unexpected_field_behavior="error"
        ),
    )
    # read_json adds the schema's columns in its own order only when they appear; select fixes
    # the order, cast turns millisecond integers into timestamps.
    return table.select([c.name for c in columns]).cast(parquet_schema(columns))


def parquet_bytes(
    table: pa.Table,
    *,
    compression: str = "zstd",
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """``table`` as the bytes of one Parquet file (an object for the lake storage port)."""
    if compression not in COMPRESSIONS:
        raise ValueError(
            f"compression must be one of {', '.join(COMPRESSIONS)}, got {compression!r}"
        )
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=compression)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def json_lines_bytes(documents: Iterable[Mapping[str, Any]]) -> bytes:
    """One JSON document a line (compact separators), as bytes."""
    return "".join(
        json.dumps(document, separators=(",", ":")) + "\n" for document in documents
    ).encode()


def write_parquet(
    path: Path,
    table: pa.Table,
    *,
    compression: str = "zstd",
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``table`` as one Parquet file, atomically and durably."""
    return _write_file(path, parquet_bytes(table, compression=compression, metadata=metadata))


def write_json_lines(path: Path, documents: Iterable[Mapping[str, Any]]) -> Path:
    """Write one JSON document a line, atomically and durably."""
    return _write_file(path, json_lines_bytes(documents))


@dataclass(frozen=True)
class RawZoneCounts:
    """What the raw zone holds: for ``glucosestream local status`` and the balance check.

    Balance: readings put to the stream = ``raw_rows`` + ``error_records`` (less any
    duplicates an at-least-once restart wrote, which staging removes by identity).
    """

    raw_rows: int
    raw_files: int
    error_records: int
    error_files: int

    def as_dict(self) -> dict[str, int]:
        return {
            "raw_rows": self.raw_rows,
            "raw_files": self.raw_files,
            "error_records": self.error_records,
            "error_files": self.error_files,
        }


def count_raw_zone(
    lake_dir: Path,
    raw_prefix: str = "raw/readings/",
    errors_prefix: str = "errors/readings/",
) -> RawZoneCounts:
    """Rows in the raw Parquet files (from their footers) and records in the error files."""
    raw_rows = raw_files = 0
    raw_root = lake_dir / raw_prefix
    if raw_root.is_dir():
        for path in raw_root.rglob(f"*{PARQUET_SUFFIX}"):
            if path.name.startswith(TEMPORARY_PREFIX):
                continue
            raw_rows += pq.ParquetFile(path).metadata.num_rows
            raw_files += 1
    error_records = error_files = 0
    errors_root = lake_dir / errors_prefix
    if errors_root.is_dir():
        for path in errors_root.rglob(f"*{ERRORS_SUFFIX}"):
            if path.name.startswith(TEMPORARY_PREFIX):
                continue
            with path.open("rb") as handle:
                error_records += sum(1 for line in handle if line.strip())
            error_files += 1
    return RawZoneCounts(raw_rows, raw_files, error_records, error_files)
