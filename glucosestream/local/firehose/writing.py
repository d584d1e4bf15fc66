"""Buffers into objects of the lake, on writer threads: raw buffers converted through the Glue
table's schema into Parquet (as Firehose's record format conversion does), the JSON that does not
convert set aside with its reason; error buffers as JSON lines. Objects are named
``<delivery stream>-<yyyy-MM-dd-HH-mm-ss>-<uuid>``, with the Kinesis sequence range per shard in
the Parquet key-value metadata (``gs.sources``)."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone.files import (
    ERRORS_SUFFIX,
    PARQUET_SUFFIX,
    parquet_bytes,
    table_from_json_lines,
)
from glucosestream.lake.raw_zone.schema import Column, parquet_schema
from glucosestream.lake.raw_zone.transform import redact
from glucosestream.lake.storage import LakeStorage
from glucosestream.local.firehose.buffering import Buffer
from glucosestream.settings import Settings

DEFAULT_WRITER_THREADS = 2


def delivery_lake(settings: Settings) -> LakeStorage:
    """The lake bucket the stand-in delivers to: the bucket itself in aws mode (the AWS-mode
    rehearsal: the client follows ``AWS_ENDPOINT_URL_S3``), the lake directory locally."""
    if settings.mode == "aws":
        return S3LakeStorage(aws_client("s3", settings), settings.names.lake_bucket)
    return LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)


def _stamp(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d-%H-%M-%S")


@dataclass
class Written:
    """A buffer's file, written by a writer thread."""

    buffer: Buffer
    rows: int
    rejected: list[tuple[int, str]]
    """Chunks (by index) that do not convert to the raw schema, with the reason."""


class BufferWriter:
    """Writes one buffer's object into the lake."""

    def __init__(
        self,
        lake: LakeStorage,
        *,
        columns: Sequence[Column],
        compression: str,
        delivery_stream: str,
        clock: Callable[[], float],
    ) -> None:
        self.lake = lake
        self.columns = columns
        self.compression = compression
        self.delivery_stream = delivery_stream
        self._clock = clock

    def write(self, buffer: Buffer) -> Written:
        """Write one buffer's object (on a writer thread: reads the buffer, changes nothing);
        it is durable when this returns."""
        if buffer.kind == "errors":
            # Each chunk is one compact JSON document and its newline (see routing).
            key = buffer.prefix + self._file_name(ERRORS_SUFFIX)
            self.lake.write_bytes(key, b"".join(buffer.chunks))
            return Written(buffer, len(buffer.chunks), [])
        chunks = buffer.chunks
        rejected: list[tuple[int, str]] = []
        try:
            table = table_from_json_lines(b"".join(chunks), self.columns)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            table, rejected = self._convert_one_by_one(chunks)
        if table.num_rows:
            sources: dict[str, list[str]] = {}
            bad = {index for index, _ in rejected}
            for index, source in enumerate(buffer.sources):
                if index not in bad:
                    span = sources.setdefault(source.shard_id, [source.sequence_number] * 2)
                    span[1] = source.sequence_number
            data = parquet_bytes(
                table,
                compression=self.compression,
                metadata={
                    "gs.sources": json.dumps(sources),
                    "gs.delivery_stream": self.delivery_stream,
                },
            )
            self.lake.write_bytes(buffer.prefix + self._file_name(PARQUET_SUFFIX), data)
        return Written(buffer, table.num_rows, rejected)

    def _file_name(self, suffix: str) -> str:
        return f"{self.delivery_stream}-{_stamp(self._clock())}-{uuid.uuid4().hex}{suffix}"

    def _convert_one_by_one(self, chunks: list[bytes]) -> tuple[pa.Table, list[tuple[int, str]]]:
        """The chunks that convert, as one table, and the others with their reasons."""
        good: list[bytes] = []
        rejected: list[tuple[int, str]] = []
        for index, chunk in enumerate(chunks):
            try:
                table_from_json_lines(chunk, self.columns)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
                rejected.append((index, redact(str(error))))
                continue
            good.append(chunk)
        if not good:
            return parquet_schema(self.columns).empty_table(), rejected
        return table_from_json_lines(b"".join(good), self.columns), rejected


class WriterPool:
    """Writes on ``threads`` threads (fsync waits on the disk, not on the CPU), handing the
    finished writes back in the order they were started."""

    def __init__(self, write: Callable[[Buffer], Written], threads: int) -> None:
        self._write = write
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._writes: deque[Future[Written]] = deque()

    @property
    def in_flight(self) -> int:
        return len(self._writes)

    @property
    def full(self) -> bool:
        """Bounded: files in flight hold their buffers' memory."""
        return len(self._writes) >= 4 * self.threads

    def submit(self, buffer: Buffer) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.threads, thread_name_prefix=f"{threading.current_thread().name}-write"
            )
        self._writes.append(self._executor.submit(self._write, buffer))

    def next_finished(self, *, block: bool) -> Written | None:
        """The oldest write, once it has finished (waiting for it with ``block``); None when
        nothing is in flight, or without ``block`` when the oldest write is still going on.
        Raises what the write raised."""
        if not self._writes or not (block or self._writes[0].done()):
            return None
        return self._writes.popleft().result()

    def shutdown(self) -> None:
        """Wait for the threads to finish (writes in flight complete)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
