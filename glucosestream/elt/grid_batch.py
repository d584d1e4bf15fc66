"""One batch of the grid-metrics Distributed Map: read chunks of patients, write their metrics.

The state machine's Distributed Map lists the staging prefix of a run (ItemReader
``s3:listObjectsV2``) and sends batches of the listed objects (ItemBatcher) to the grid-metrics
Lambda. The staging prefix holds the run's ``period_readings`` partitioned by patient chunk,
``<input prefix>[part-<k>/]chunk=<n>/<files>.parquet`` (every reading of a patient is in one
chunk; Athena may write several files for one chunk). An item names its chunk by any of its
files; the item holding the chunk's first key (in key order) computes the whole chunk and the
others are covered by it, so each chunk is computed once whichever batches its files fall
into. Outputs::

    <metrics prefix>chunk-<n>.parquet    one row per patient (GRID_METRICS_SCHEMA)
    <episodes prefix>chunk-<n>.parquet   one row per episode (EPISODES_SCHEMA)
    <iglu prefix>chunk-<n>.parquet       one row per patient and iglu metric (IGLU_SCHEMA)

The pipeline chooses both prefixes: each is the run's partition of a staging table that Athena
reads (``sql/ddl/grid_metrics_staging.sql``, ``grid_episodes_staging.sql``,
``grid_iglu_staging.sql``), so the outputs need no copy before the period marts read them.

The names depend on the chunk only and the bytes on its readings only, so a retried (or
redriven) batch overwrites its outputs with the same bytes: nothing doubled, nothing lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.elt.grid_metrics import SeriesOf, grid_tables, patient_series
from glucosestream.lake.storage import LakeStorage

CHUNK = re.compile(r"^chunk=(?P<chunk>[A-Za-z0-9_-]+)$")
"""The partition directory of a chunk of patients in the staging prefix."""
PARQUET_COMPRESSION = "zstd"


class GridBatchError(ValueError):
    """The batch event is malformed (one line saying what is wrong)."""


@dataclass(frozen=True, slots=True)
class GridBatch:
    """A Distributed Map batch: the listed object keys and the run's window and output."""

    keys: tuple[str, ...]
    metrics_prefix: str
    episodes_prefix: str
    iglu_prefix: str
    period_start: date
    period_end: date

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> GridBatch:
        """``{"Items": [{"Key": ...}, ...], "BatchInput": {"metrics_prefix", "episodes_prefix",
        "iglu_prefix", "period_start", "period_end"}}``, as a Distributed Map's ItemBatcher
        sends it."""
        items = event.get("Items")
        if not isinstance(items, list) or not items:
            raise GridBatchError("the event has no Items (a Distributed Map batch)")
        keys = []
        for item in items:
            key = item.get("Key") if isinstance(item, Mapping) else None
            if not isinstance(key, str) or not key:
                raise GridBatchError(f"an item has no Key: {item!r}")
            chunk_of(key)  # every key is checked before anything is computed or written
            keys.append(key)
        batch_input = event.get("BatchInput")
        if not isinstance(batch_input, Mapping):
            raise GridBatchError("the event has no BatchInput")
        names = ("metrics_prefix", "episodes_prefix", "iglu_prefix")
        metrics, episodes, iglu = (_prefix(batch_input, name) for name in names)
        if len({metrics, episodes, iglu}) < len(names):
            raise GridBatchError(f"BatchInput.{', '.join(names)} must differ")
        start, end = (_date(batch_input, name) for name in ("period_start", "period_end"))
        if start > end:
            raise GridBatchError(f"period_start {start} is after period_end {end}")
        return cls(tuple(keys), metrics, episodes, iglu, start, end)


@dataclass
class BatchReport:
    """What a batch did (the child execution's output: small, counts and names only)."""

    chunks: list[str] = field(default_factory=list)
    """The chunks this batch computed."""
    covered: int = 0
    """Items whose chunk another item (the one holding its first key) computes."""
    input_objects: int = 0
    patients: int = 0
    episodes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "chunks": self.chunks,
            "covered": self.covered,
            "input_objects": self.input_objects,
            "patients": self.patients,
            "episodes": self.episodes,
        }


def _prefix(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value.endswith("/") or value.startswith("/"):
        raise GridBatchError(f"BatchInput.{name} must be a key prefix ending in '/': {value!r}")
    return value


def _date(values: Mapping[str, Any], name: str) -> date:
    value = values.get(name)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise GridBatchError(
            f"BatchInput.{name} must be a date YYYY-MM-DD, got {value!r}"
        ) from None


def chunk_of(key: str) -> tuple[str, str]:
    """(chunk prefix, output name) of an input key ``…/chunk=<n>/<file>``."""
    prefix, _, name = key.rpartition("/")
    match = CHUNK.match(prefix.rpartition("/")[2])
    if not name or match is None:
        raise GridBatchError(
            f"{key!r} is not a file in a chunk=<n>/ partition of the staging prefix"
        )
    return f"{prefix}/", f"chunk-{match['chunk']}"


def read_chunk(lake: LakeStorage, keys: list[str]) -> pa.Table:
    """The readings of a chunk's Parquet files, as one table."""
    # ParquetFile, not read_table: no pyarrow.dataset needed in the Lambda layer.
    tables = [pq.ParquetFile(pa.BufferReader(lake.read_bytes(key))).read() for key in keys]
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as Parquet, the same bytes for the same table (no timestamps are written)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=PARQUET_COMPRESSION)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def run_batch(
    event: Mapping[str, Any], lake: LakeStorage, series: SeriesOf = patient_series
) -> dict[str, Any]:
    """Compute the grid metrics of every chunk this batch is first for; write its outputs.

    Parameters
    ----------
    event
        The Distributed Map batch (see :meth:`GridBatch.from_event`).
    lake
        Where the staging input and the outputs live (S3 in aws mode, a directory locally).
    series
        How readings become per-patient series (:func:`glucosestream.elt.grid_metrics.grid_tables`).
    """
    batch = GridBatch.from_event(event)
    report = BatchReport()
    done: set[str] = set()
    for key in batch.keys:
        prefix, name = chunk_of(key)
        if prefix in done:
            report.covered += 1
            continue
        files = [item.key for item in lake.list(prefix) if not item.key.endswith("/")]
        if key not in files:
            raise FileNotFoundError(f"{lake.uri(key)} is no longer in {lake.uri(prefix)}")
        if files[0] != key:
            report.covered += 1
            continue
        done.add(prefix)
        readings = read_chunk(lake, files)
        tables = grid_tables(readings, batch.period_start, batch.period_end, series)
        lake.write_bytes(f"{batch.metrics_prefix}{name}.parquet", parquet_bytes(tables.metrics))
        lake.write_bytes(f"{batch.episodes_prefix}{name}.parquet", parquet_bytes(tables.episodes))
        lake.write_bytes(f"{batch.iglu_prefix}{name}.parquet", parquet_bytes(tables.iglu))
        report.chunks.append(name)
        report.input_objects += len(files)
        report.patients += tables.metrics.num_rows
        report.episodes += tables.episodes.num_rows
    return report.as_dict()
