"""Partition buffers: transformed data waiting for a file, one buffer per ``dt``/``hour``
partition (and, for errors, per error output type), due when it holds ``buffer_bytes`` or is
``buffer_seconds`` old (Firehose's buffering hints), or early when there are too many buffers or
they hold too much together."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from glucosestream.lake.raw_zone.files import partition_prefix
from glucosestream.local.firehose.bookkeeping import Source

DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024
"""Firehose's minimum buffer size with dynamic partitioning (64 MiB): what Terraform deploys."""
DEFAULT_BUFFER_SECONDS = 60.0
"""Buffer interval (Firehose allows 0-900 s): a partition's data is queryable within a minute."""
DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024
"""Bound on all buffers together; beyond it the biggest buffers are flushed early."""
MAX_OPEN_BUFFERS = 500
"""Firehose's limit of active partitions; beyond it the oldest buffer is flushed early."""

ErrorOutputType = Literal["processing-failed", "format-conversion-failed"]
"""Values of Firehose's ``!{firehose:error-output-type}``, the last directory of an error path."""
PROCESSING_FAILED_OUTPUT: ErrorOutputType = "processing-failed"
FORMAT_CONVERSION_FAILED_OUTPUT: ErrorOutputType = "format-conversion-failed"

BufferKey = tuple[str, ...]
"""``("raw", dt, hour)`` or ``("errors", dt, hour, error output type)``."""


@dataclass
class Buffer:
    """One partition's transformed data waiting for a file (bytes only: cheap to hold)."""

    prefix: str
    """The partition's key prefix in the lake (ends with ``/``)."""
    kind: Literal["raw", "errors"]
    opened_at: float
    chunks: list[bytes] = field(default_factory=list)
    """JSON lines of one output record (raw), or one error document line (errors)."""
    sources: list[Source] = field(default_factory=list)
    size: int = 0

    def add(self, data: bytes, source: Source) -> None:
        self.chunks.append(data)
        self.sources.append(source)
        self.size += len(data)


class PartitionBuffers:
    """The open buffers by key, and the bytes they hold together."""

    def __init__(self, raw_prefix: str, errors_prefix: str, clock: Callable[[], float]) -> None:
        self._raw_prefix = raw_prefix
        self._errors_prefix = errors_prefix
        self._clock = clock
        self._buffers: dict[BufferKey, Buffer] = {}
        self.buffered_bytes = 0

    def __len__(self) -> int:
        return len(self._buffers)

    def open_keys(self) -> list[BufferKey]:
        """The keys of the open buffers (a copy: buffers can be taken while it is walked)."""
        return list(self._buffers)

    def add_raw(self, dt: str, hour: str, data: bytes, source: Source) -> None:
        self._buffer(("raw", dt, hour)).add(data, source)
        self.buffered_bytes += len(data)

    def add_error(
        self, dt: str, hour: str, output_type: ErrorOutputType, line: bytes, source: Source
    ) -> None:
        self._buffer(("errors", dt, hour, output_type)).add(line, source)
        self.buffered_bytes += len(line)

    def due(
        self, *, force: bool, buffer_bytes: int, buffer_seconds: float, max_buffered_bytes: int
    ) -> list[BufferKey]:
        """The buffers to write now: full or old enough (all of them with ``force``), then those
        over the limits (see :meth:`_overflow`)."""
        now = self._clock()
        due = [
            key
            for key, buffer in self._buffers.items()
            if force or buffer.size >= buffer_bytes or now - buffer.opened_at >= buffer_seconds
        ]
        due.extend(self._overflow(set(due), max_buffered_bytes))
        return due

    def take(self, key: BufferKey) -> Buffer:
        buffer = self._buffers.pop(key)
        self.buffered_bytes -= buffer.size
        return buffer

    def until_due(self, now: float, buffer_seconds: float) -> float:
        """Seconds until the oldest buffer is due by age (infinity without buffers)."""
        wait = math.inf
        for buffer in self._buffers.values():
            wait = min(wait, max(0.0, buffer.opened_at + buffer_seconds - now))
        return wait

    def _buffer(self, key: BufferKey) -> Buffer:
        """The open buffer of ``("raw", dt, hour)`` or ``("errors", dt, hour, output type)``."""
        buffer = self._buffers.get(key)
        if buffer is None:
            if key[0] == "raw":
                prefix = partition_prefix(self._raw_prefix, key[1], key[2])
                buffer = Buffer(prefix, "raw", self._clock())
            else:
                prefix = partition_prefix(self._errors_prefix, key[1], key[2])
                buffer = Buffer(f"{prefix}{key[3]}/", "errors", self._clock())
            self._buffers[key] = buffer
        return buffer

    def _overflow(self, already: set[BufferKey], max_buffered_bytes: int) -> list[BufferKey]:
        """Buffers to write early: beyond the partition limit, the oldest; beyond the memory
        bound, the biggest."""
        extra: list[BufferKey] = []
        rest = [k for k in self._buffers if k not in already]
        if len(rest) > MAX_OPEN_BUFFERS:
            rest.sort(key=lambda k: self._buffers[k].opened_at)
            cut = len(rest) - MAX_OPEN_BUFFERS
            extra, rest = rest[:cut], rest[cut:]
        held = sum(self._buffers[k].size for k in rest)
        if held > max_buffered_bytes:
            for key in sorted(rest, key=lambda k: -self._buffers[k].size):
                if held <= max_buffered_bytes:
                    break
                extra.append(key)
                held -= self._buffers[key].size
        return extra
