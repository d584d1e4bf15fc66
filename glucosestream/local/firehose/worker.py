"""The delivery worker: reads every shard, de-aggregates, has the transform invoked in batches
of bounded size, routes the outputs into partition buffers, writes the buffers that are due, and
moves each shard's checkpoint past the records whose every user record is in a durable object."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from glucosestream.adapters.kinesis import (
    ShardPage,
    ShardReader,
    ShardSource,
    StreamRecord,
    stream_named,
)
from glucosestream.contract.kpl import AggregationError, UserRecord, deaggregate
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone.files import COMPRESSIONS
from glucosestream.lake.raw_zone.schema import READINGS, RawTable, delivery_of
from glucosestream.lake.storage import LakeStorage
from glucosestream.local.esm import CheckpointStore
from glucosestream.local.firehose.bookkeeping import DeliveryStats, Source
from glucosestream.local.firehose.buffering import (
    DEFAULT_BUFFER_BYTES,
    DEFAULT_BUFFER_SECONDS,
    DEFAULT_MAX_BUFFERED_BYTES,
    Buffer,
    PartitionBuffers,
)
from glucosestream.local.firehose.invocation import (
    DEFAULT_INVOCATION_BYTES,
    DEFAULT_TRANSFORM_RETRIES,
    PendingInvocation,
    Transform,
    TransformInvoker,
    default_transform,
)
from glucosestream.local.firehose.routing import Router
from glucosestream.local.firehose.writing import (
    DEFAULT_WRITER_THREADS,
    BufferWriter,
    WriterPool,
    Written,
    delivery_lake,
)
from glucosestream.local.lambda_runtime import function_arn
from glucosestream.local.shards import Backoff, ShardDiscovery, StartingPosition
from glucosestream.settings import Settings, arn

logger = logging.getLogger(__name__)

IDLE_POLL_S = 0.2


@dataclass
class _Shard:
    reader: ShardReader
    checkpointed: str | None
    pending: deque[Source] = field(default_factory=deque)
    fetch: Future[ShardPage] | None = None
    """The next page, being read on a reader thread."""
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def shard_id(self) -> str:
        return self.reader.shard_id


class FirehoseWorker:
    """Delivers the readings (or the treatments) stream into the lake as Firehose would into S3.

    Parameters
    ----------
    settings
        Region, resource names, ``state_dir`` (checkpoints) and the mode.
    buffer_bytes
        Flush a partition's buffer once it holds this many bytes of transformed JSON.
    buffer_seconds
        Flush a partition's buffer once its first record is this old.
    compression
        Parquet codec: ``"zstd"`` or ``"snappy"``.
    transform
        The transform Lambda handler; by default the one deployed to AWS.
    raw_table
        The raw table delivered (:data:`~glucosestream.lake.raw_zone.schema.RAW_TABLES`): the
        readings stream into ``raw/readings/`` by default, or treatments or erasures; names and
        prefixes from :func:`~glucosestream.lake.raw_zone.schema.delivery_of`.
    stream
        The stream to read; by default the raw table's stream through ``aws_client("kinesis")``.
    name
        Names the checkpoint directory ``<state_dir>/firehose/<name>/``; by default
        ``raw-delivery`` for readings, ``<dataset>-delivery`` for the other raw tables (each
        delivery keeps its own checkpoints: they are positions in its own stream).
    lake
        Where the objects go; :func:`delivery_lake` (by ``settings.mode``) by default.
    invocation_bytes
        Most source bytes per transform invocation.
    transform_retries
        Retries of a failed invocation before its records go to the error prefix.
    max_buffered_bytes
        Bound on the bytes held by all buffers together.
    writer_threads
        Files are converted, compressed and fsynced on these threads while reading and
        transforming go on (fsync waits on the disk, not on the CPU).
    transform_processes
        Run transform invocations in this many worker processes, several in flight while the
        next pages are read (as Firehose invokes its Lambda concurrently); 0 (the default) runs
        each invocation on the polling thread. The transform must then be a module-level
        function (it is sent to the processes by reference).
    starting_position
        Where a shard without a checkpoint is read from.
    clock
        Epoch seconds; buffer ages and file names use it.
    sleep
        How retries of a failed invocation wait.

    Raises
    ------
    ValueError
        A parameter out of range; the message names it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        buffer_seconds: float = DEFAULT_BUFFER_SECONDS,
        compression: str = "zstd",
        transform: Transform | None = None,
        raw_table: RawTable = READINGS,
        stream: ShardSource | None = None,
        name: str | None = None,
        lake: LakeStorage | None = None,
        invocation_bytes: int = DEFAULT_INVOCATION_BYTES,
        transform_retries: int = DEFAULT_TRANSFORM_RETRIES,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        writer_threads: int = DEFAULT_WRITER_THREADS,
        transform_processes: int = 0,
        starting_position: StartingPosition = "TRIM_HORIZON",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for label, value in (
            ("buffer_bytes", buffer_bytes),
            ("invocation_bytes", invocation_bytes),
            ("max_buffered_bytes", max_buffered_bytes),
            ("writer_threads", writer_threads),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        if isinstance(transform_retries, bool) or not 0 <= transform_retries <= 300:
            raise ValueError(f"transform_retries must be 0-300, got {transform_retries!r}")
        if not 0 <= buffer_seconds <= 900:
            raise ValueError(f"buffer_seconds must be 0-900, got {buffer_seconds!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        if starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError(
                f"starting_position must be TRIM_HORIZON or LATEST, got {starting_position!r}"
            )
        self.settings = settings
        self.buffer_bytes = buffer_bytes
        self.buffer_seconds = float(buffer_seconds)
        self.compression = compression
        self.transform: Transform = transform or default_transform()
        delivery = delivery_of(settings.names, raw_table)
        if name is None:
            name = "raw-delivery" if raw_table is READINGS else f"{raw_table.dataset}-delivery"
        self.raw_table = raw_table
        self.stream: ShardSource = stream or stream_named(settings, delivery.stream)
        self.name = name
        self.lake: LakeStorage = lake if lake is not None else delivery_lake(settings)
        self.invocation_bytes = invocation_bytes
        self.transform_retries = transform_retries
        self.max_buffered_bytes = max_buffered_bytes
        self.writer_threads = writer_threads
        self.starting_position = starting_position
        self._clock = clock
        self.delivery_stream = delivery.delivery_stream
        self.delivery_stream_arn = arn(
            "firehose", settings.region, f"deliverystream/{self.delivery_stream}"
        )
        self.function_name = f"{settings.names.prefix}-firehose-transform"
        self.function_arn = function_arn(settings.region, self.function_name)
        self.source_arn = arn("kinesis", settings.region, f"stream/{self.stream.name}")
        self.checkpoints = CheckpointStore(settings.state_dir / "firehose" / name)
        self.stats = DeliveryStats()
        self.columns = raw_table.columns()
        raw_prefix, errors_prefix = delivery.raw_prefix, delivery.errors_prefix
        self._shards: dict[str, _Shard] = {}
        self._discovery = ShardDiscovery(
            self.stream, self.checkpoints, starting_position, clock, f"firehose {name}"
        )
        self._readers: ThreadPoolExecutor | None = None
        self._buffers = PartitionBuffers(raw_prefix, errors_prefix, clock)
        self._invoker = TransformInvoker(
            self.transform,
            region=settings.region,
            delivery_stream_arn=self.delivery_stream_arn,
            source_arn=self.source_arn,
            function_name=self.function_name,
            function_arn=self.function_arn,
            retries=transform_retries,
            stats=self.stats,
            clock=clock,
            sleep=sleep,
            label=name,
            processes=transform_processes,
        )
        self._invocations: deque[tuple[list[tuple[Source, UserRecord]], PendingInvocation]] = (
            deque()
        )
        self._router = Router(self._buffers, self.stats, clock, self.function_arn)
        writer = BufferWriter(
            self.lake,
            columns=self.columns,
            compression=compression,
            delivery_stream=self.delivery_stream,
            clock=clock,
        )
        self._writes = WriterPool(writer.write, writer_threads)
        if isinstance(self.lake, LocalLakeStorage):
            # Only a directory can hold a crash's temporaries; this worker owns these prefixes.
            for prefix in (raw_prefix, errors_prefix):
                removed = self.lake.remove_temporaries(prefix)
                if removed:
                    logger.info("firehose %s: removed %d temporary files of a crash", name, removed)

    # -- public API -----------------------------------------------------------------------

    def poll_once(self) -> int:
        """Read one page of every shard, transform it, buffer it, flush what is due.

        Returns
        -------
        int
            Kinesis records read in this pass (0: nothing new right now).
        """
        self._refresh_shards()
        shards = [s for s in self._shards.values() if not s.reader.closed or s.fetch]
        now = self._clock()
        for shard in shards:
            if shard.fetch is None and not shard.reader.closed and now >= shard.backoff.retry_at:
                shard.fetch = self._submit_fetch(shard)
        pages: list[tuple[_Shard, ShardPage]] = []
        for shard in shards:
            if shard.fetch is None:
                continue
            try:
                page = shard.fetch.result()
            except (ClientError, BotoCoreError) as error:
                shard.fetch = None
                self._read_failed(shard, error)
                continue
            shard.fetch = None
            shard.reader.advance(page)
            shard.backoff.succeeded()
            self.stats.millis_behind_latest[shard.shard_id] = page.millis_behind_latest
            if page.records:
                # Every shard's next page is being read while these are transformed: the
                # Kinesis round trips hide behind the work, the stream's server never idles.
                if not shard.reader.closed:
                    shard.fetch = self._submit_fetch(shard)
                pages.append((shard, page))
        read = 0
        for shard, page in pages:
            self._deliver(shard, page.records)
            read += len(page.records)
        # With nothing new to read, the invocations in flight are all there is to wait for.
        self._route_invocations(block=read == 0)
        self.flush()
        return read

    def flush(self, force: bool = False) -> int:
        """Start writing the buffers that are full or old enough; apply finished writes.

        Parameters
        ----------
        force
            Write every buffer and wait until every file is durable and every checkpoint saved.

        Returns
        -------
        int
            Files started in this call.

        Raises
        ------
        Exception
            An object could not be written (``OSError`` from a directory, ``LakeAccessDenied``,
            botocore's errors from S3); nothing is checkpointed past its records.
        """
        if force:
            self._route_invocations(block=True)
        due = self._buffers.due(
            force=force,
            buffer_bytes=self.buffer_bytes,
            buffer_seconds=self.buffer_seconds,
            max_buffered_bytes=self.max_buffered_bytes,
        )
        for key in due:
            self._submit_write(self._buffers.take(key))
        started = len(due)
        self._collect(block=False)
        while force and (self._writes.in_flight or len(self._buffers)):
            # JSON that fails conversion comes back as new error buffers: write those too.
            self._collect(block=True)
            for key in self._buffers.open_keys():
                self._submit_write(self._buffers.take(key))
                started += 1
        return started

    def drain(self) -> None:
        """Wait for the files being written and apply them (open buffers stay open)."""
        self._collect(block=True)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, then flush everything and close."""
        try:
            while not stop.is_set():
                if self.poll_once() == 0:
                    stop.wait(self._idle_wait())
            self.flush(force=True)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the threads and transform processes; files being written are finished and
        applied. Buffers not yet written and invocations in flight are dropped from memory:
        their records are re-read after the checkpoint."""
        self._invocations.clear()
        self._invoker.close()
        if self._readers is not None:
            self._readers.shutdown(wait=True, cancel_futures=True)
            self._readers = None
        for shard in self._shards.values():
            shard.fetch = None
        try:
            self._collect(block=True)
        finally:
            self._writes.shutdown()

    def wait_warm(self, timeout_s: float = 60.0) -> None:
        """Wait for the transform processes' cold start (nothing to wait for without them)."""
        self._invoker.wait_warm(timeout_s)

    def checkpoint(self, shard_id: str) -> str | None:
        """The durable checkpoint of a shard (``None`` before its first file)."""
        return self.checkpoints.load(shard_id)

    @property
    def buffered_bytes(self) -> int:
        """Bytes of transformed data waiting in buffers."""
        return self._buffers.buffered_bytes

    @property
    def open_buffers(self) -> int:
        return len(self._buffers)

    # -- reading --------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        for reader in self._discovery.new_shards(self._shards):
            self._shards[reader.shard_id] = _Shard(reader, checkpointed=reader.last_read)

    def _submit_fetch(self, shard: _Shard) -> Future[ShardPage]:
        if self._readers is None:
            self._readers = ThreadPoolExecutor(
                thread_name_prefix=f"{threading.current_thread().name}-read"
            )
        # The page is applied on this thread (poll_once), or dropped by close(): the reader's
        # position moves only with records that were delivered. An iterator unused for 5
        # minutes (a long stall) is renewed after the last record read.
        return self._readers.submit(shard.reader.fetch)

    def _read_failed(self, shard: _Shard, error: Exception) -> None:
        self.stats.read_errors += 1
        logger.warning("firehose %s: GetRecords on %s failed: %s", self.name, shard.shard_id, error)
        shard.backoff.failed(self._clock())

    # -- transforming ---------------------------------------------------------------------

    def _deliver(self, shard: _Shard, records: list[StreamRecord]) -> None:
        """De-aggregate, transform in invocations of bounded size, route outputs to buffers."""
        batch: list[tuple[Source, UserRecord]] = []
        batch_bytes = 0
        for record in records:
            self.stats.records_read += 1
            try:
                users = deaggregate(record.data, record.partition_key)
            except AggregationError:
                users = []
            if not users:
                # Unreadable or empty aggregate: handed over whole, the transform fails it with
                # its reason, so that it lands in the error prefix rather than vanishing.
                users = [UserRecord(record.partition_key, record.data, 0)]
            source = Source(shard.shard_id, record.sequence_number, record.arrival_ms, len(users))
            shard.pending.append(source)
            for user in users:
                if batch and batch_bytes + len(user.data) > self.invocation_bytes:
                    self._invoke(batch)
                    batch, batch_bytes = [], 0
                batch.append((source, user))
                batch_bytes += len(user.data)
        if batch:
            self._invoke(batch)

    def _invoke(self, batch: list[tuple[Source, UserRecord]]) -> None:
        """Start an invocation; route the outputs of those that are done, in the order they
        were started (waiting for the oldest while too many are in flight)."""
        self.stats.user_records += len(batch)
        self._invocations.append((batch, self._invoker.start(batch)))
        self._route_invocations(block=False)
        while len(self._invocations) > self._invoker.concurrency:
            self._route_one()

    def _route_invocations(self, *, block: bool) -> None:
        while self._invocations and (block or self._invocations[0][1].done()):
            self._route_one()

    def _route_one(self) -> None:
        batch, pending = self._invocations.popleft()
        invocation = self._invoker.finish(pending)
        for index, (source, user) in enumerate(batch):
            if invocation.outputs is None:
                self._router.fail(
                    source,
                    user,
                    "Lambda.FunctionError",
                    "function",
                    invocation.problem,
                    invocation.attempts,
                )
            else:
                self._router.route(source, user, invocation.outputs[index], invocation.attempts)

    # -- writing --------------------------------------------------------------------------

    def _submit_write(self, buffer: Buffer) -> None:
        while self._writes.full:
            written = self._writes.next_finished(block=True)
            assert written is not None, "a full pool has writes in flight"
            self._apply(written)
        self._writes.submit(buffer)

    def _collect(self, *, block: bool) -> None:
        """Apply finished writes (all of them with ``block``), then move the checkpoints."""
        applied = False
        while (written := self._writes.next_finished(block=block)) is not None:
            self._apply(written)
            applied = True
        if applied:
            self._advance_checkpoints()

    def _apply(self, written: Written) -> None:
        """Account for a durable file: its records are landed, except rejected JSON, which
        moves to the format-conversion-failed error output (still outstanding)."""
        buffer = written.buffer
        if buffer.kind == "errors":
            self.stats.error_files += 1
            self.stats.errors_landed += written.rows
        else:
            self.stats.raw_files += 1 if written.rows else 0
            self.stats.rows_landed += written.rows
        rejected = dict(written.rejected)
        for index, source in enumerate(buffer.sources):
            reason = rejected.get(index)
            if reason is None:
                source.outstanding -= 1
                continue
            self._router.conversion_failed(source, buffer.chunks[index], reason)

    def _advance_checkpoints(self) -> None:
        for shard in self._shards.values():
            last = None
            while shard.pending and shard.pending[0].outstanding <= 0:
                last = shard.pending.popleft().sequence_number
            if last is not None and last != shard.checkpointed:
                self.checkpoints.save(shard.shard_id, last)
                shard.checkpointed = last
                self.stats.checkpoints_saved += 1

    def _idle_wait(self) -> float:
        now = self._clock()
        wait = min(IDLE_POLL_S, self._buffers.until_due(now, self.buffer_seconds))
        for shard in self._shards.values():
            if shard.backoff.retry_at > now:
                wait = min(wait, shard.backoff.retry_at - now)
        return max(wait, 0.001)
