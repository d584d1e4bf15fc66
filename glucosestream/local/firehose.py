"""The local Firehose delivery stream: Kinesis → transform Lambda → Parquet in the lake.

Stand-in for the Firehose delivery stream ``gs-<env>-raw-delivery`` (Kinesis source, transform
Lambda, record format conversion to Parquet, dynamic partitioning on dt/hour). It:

1. reads every shard of the readings stream (GetRecords; the next call is in flight while the
   previous page is being transformed), de-aggregating KPL records into user records as Firehose
   does for a Kinesis source (an aggregate that cannot be read is passed on whole, and the
   transform fails it with its reason);
2. builds Firehose's transformation event (base64 data, ``kinesisRecordMetadata``) in invocations
   of at most ``invocation_bytes`` of data and calls the SAME transform as the Lambda
   (:func:`consumers.firehose_transform.handler.lambda_handler`); an invocation that raises or
   answers malformed is retried ``transform_retries`` times, then its records are failed with
   ``Lambda.FunctionError``, as Firehose does;
3. buffers ``Ok`` output per ``dt``/``hour`` partition key and flushes a buffer when it holds
   ``buffer_bytes`` of JSON or is ``buffer_seconds`` old (Firehose's buffering hints), writing one
   Parquet object (pyarrow, zstd or snappy) under ``raw/readings/dt=YYYY-MM-DD/hour=HH/`` whose
   columns and types are the Glue table's (:mod:`glucosestream.lake.raw_zone.schema`): the JSON
   lines
   are converted through that schema, as Firehose's record format conversion does (on writer
   threads, so that fsync waits overlap reading and transforming);
4. writes ``ProcessingFailed`` records (and JSON that does not convert) as JSON lines, raw bytes
   base64-encoded, under ``errors/readings/dt=YYYY-MM-DD/hour=HH/<error-output-type>/`` by arrival
   time, the layout of the Firehose error prefix
   ``errors/readings/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/``.

Where: through the lake storage port (:mod:`glucosestream.lake.storage`), keys with the lake
bucket's layout. Locally the ``.gs/lake`` directory
(:class:`~glucosestream.lake.directory.LocalLakeStorage`);
in aws mode, for the rehearsal, the lake bucket itself
(:class:`~glucosestream.adapters.s3_lake.S3LakeStorage`): :func:`delivery_lake` chooses by
``GS_MODE`` unless the caller passes a lake.

Durability: an object is durable once ``write_bytes`` has returned: S3's PutObject is atomic and
durable when it answers; the directory writes a hidden temporary, fsyncs it, renames it and fsyncs
the directory. A shard's checkpoint (``<state_dir>/firehose/<name>/<shardId>.json``, the
event-source mapping's :class:`~glucosestream.local.esm.CheckpointStore`) moves only past Kinesis
records all of whose user records are in such durable objects, so a ``kill -9`` at any point loses
nothing; a restart re-reads after the checkpoint and may land a reading twice (at-least-once),
which staging removes by the reading's identity. In a directory, the hidden temporaries a crash
left under the raw and error prefixes are deleted at start-up (S3 has none: an interrupted
PutObject leaves nothing).

Differences from AWS, on purpose: with no checkpoint the worker starts at TRIM_HORIZON (the lake
is the system of record; Terraform must create the delivery stream before producers write);
buffering hints may be smaller than Firehose's minimums (1 MiB, 0 s) so tests stay short; instead
of failing records beyond 500 active partitions, the oldest buffer is flushed early; files are
named ``<delivery stream>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.parquet`` with the Kinesis sequence range per
shard in the Parquet key-value metadata (``gs.sources``) for debugging.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import (
    ShardPage,
    ShardReader,
    ShardSource,
    StreamRecord,
    readings_stream,
)
from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.contract.kpl import AggregationError, UserRecord, deaggregate
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone.files import (
    COMPRESSIONS,
    ERRORS_SUFFIX,
    PARQUET_SUFFIX,
    parquet_bytes,
    partition_prefix,
    table_from_json_lines,
)
from glucosestream.lake.raw_zone.schema import parquet_schema, reading_columns
from glucosestream.lake.raw_zone.transform import (
    DROPPED,
    OK,
    PROCESSING_FAILED,
    failure_reason,
    partition_of,
    redact,
)
from glucosestream.lake.storage import LakeStorage
from glucosestream.local.esm import CheckpointStore
from glucosestream.local.lambda_runtime import LambdaContext, function_arn, invocation_context
from glucosestream.local.shards import Backoff, ShardDiscovery, StartingPosition
from glucosestream.settings import Settings, arn

logger = logging.getLogger(__name__)

Transform = Callable[[dict[str, Any], Any], Any]
"""``lambda_handler(event, context)`` of a Firehose transform."""

DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024
"""Firehose's minimum buffer size with dynamic partitioning (64 MiB): what Terraform deploys."""
DEFAULT_BUFFER_SECONDS = 60.0
"""Buffer interval (Firehose allows 0-900 s): a partition's data is queryable within a minute."""
DEFAULT_INVOCATION_BYTES = 1024 * 1024
"""Firehose's Lambda processor buffer size (default 1 MiB of source data per invocation)."""
DEFAULT_TRANSFORM_RETRIES = 3
"""Firehose retries a failed transform invocation three times by default."""
DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024
"""Bound on all buffers together; beyond it the biggest buffers are flushed early."""
DEFAULT_WRITER_THREADS = 2
MAX_OPEN_BUFFERS = 500
"""Firehose's limit of active partitions; beyond it the oldest buffer is flushed early."""
IDLE_POLL_S = 0.2

ErrorOutputType = Literal["processing-failed", "format-conversion-failed"]
"""Values of Firehose's ``!{firehose:error-output-type}``, the last directory of an error path."""
PROCESSING_FAILED_OUTPUT: ErrorOutputType = "processing-failed"
FORMAT_CONVERSION_FAILED_OUTPUT: ErrorOutputType = "format-conversion-failed"

_RESULTS = (OK, DROPPED, PROCESSING_FAILED)
_DT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR = re.compile(r"^([01]\d|2[0-3])$")


# --------------------------------------------------------------------------------------------
# Bookkeeping
# --------------------------------------------------------------------------------------------


@dataclass
class DeliveryStats:
    """Counters since the worker was created (written by the polling thread only)."""

    records_read: int = 0
    """Kinesis records read from the stream (re-reads after a restart count again)."""
    user_records: int = 0
    """Records handed to the transform: Kinesis records after KPL de-aggregation."""
    invocations: int = 0
    invocation_failures: int = 0
    """Transform invocations that raised or answered malformed (each retry counts)."""
    rows_landed: int = 0
    """Rows in durable raw Parquet files."""
    errors_landed: int = 0
    """Records in durable error files."""
    raw_files: int = 0
    error_files: int = 0
    dropped: int = 0
    """Records the transform answered ``Dropped`` (ours never does)."""
    read_errors: int = 0
    checkpoints_saved: int = 0
    millis_behind_latest: dict[str, int] = field(default_factory=dict)

    @property
    def files_written(self) -> int:
        return self.raw_files + self.error_files


@dataclass(slots=True)
class _Source:
    """A Kinesis record whose user records are not all in durable files yet."""

    shard_id: str
    sequence_number: str
    arrival_ms: int
    outstanding: int


@dataclass
class _Buffer:
    """One partition's transformed data waiting for a file (bytes only: cheap to hold)."""

    prefix: str
    """The partition's key prefix in the lake (ends with ``/``)."""
    kind: Literal["raw", "errors"]
    opened_at: float
    chunks: list[bytes] = field(default_factory=list)
    """JSON lines of one output record (raw), or one error document line (errors)."""
    sources: list[_Source] = field(default_factory=list)
    size: int = 0

    def add(self, data: bytes, source: _Source) -> None:
        self.chunks.append(data)
        self.sources.append(source)
        self.size += len(data)


@dataclass
class _Written:
    """A buffer's file, written by a writer thread."""

    buffer: _Buffer
    rows: int
    rejected: list[tuple[int, str]]
    """Chunks (by index) that do not convert to the raw schema, with the reason."""


@dataclass
class _Shard:
    reader: ShardReader
    checkpointed: str | None
    pending: deque[_Source] = field(default_factory=deque)
    fetch: Future[ShardPage] | None = None
    """The next page, being read on a reader thread."""
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def shard_id(self) -> str:
        return self.reader.shard_id


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _stamp(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d-%H-%M-%S")


def delivery_lake(settings: Settings) -> LakeStorage:
    """The lake bucket the stand-in delivers to: the bucket itself in aws mode (the AWS-mode
    rehearsal: the client follows ``AWS_ENDPOINT_URL_S3``), the lake directory locally."""
    if settings.mode == "aws":
        return S3LakeStorage(aws_client("s3", settings), settings.names.lake_bucket)
    return LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)


def _default_transform() -> Transform:
    # Imported here: glucosestream must import without the Lambda package's Powertools set-up.
    from consumers.firehose_transform.handler import lambda_handler

    handler: Transform = lambda_handler
    return handler


# --------------------------------------------------------------------------------------------
# The worker
# --------------------------------------------------------------------------------------------


class FirehoseWorker:
    """Delivers the readings stream into the lake as Firehose would into S3.

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
    stream
        The stream to read; by default the readings stream through ``aws_client("kinesis")``.
    name
        Names the checkpoint directory ``<state_dir>/firehose/<name>/``.
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
        stream: ShardSource | None = None,
        name: str = "raw-delivery",
        lake: LakeStorage | None = None,
        invocation_bytes: int = DEFAULT_INVOCATION_BYTES,
        transform_retries: int = DEFAULT_TRANSFORM_RETRIES,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        writer_threads: int = DEFAULT_WRITER_THREADS,
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
        self.transform: Transform = transform or _default_transform()
        self.stream: ShardSource = stream or readings_stream(settings)
        self.name = name
        self.lake: LakeStorage = lake if lake is not None else delivery_lake(settings)
        self.invocation_bytes = invocation_bytes
        self.transform_retries = transform_retries
        self.max_buffered_bytes = max_buffered_bytes
        self.writer_threads = writer_threads
        self.starting_position = starting_position
        self._clock = clock
        self._sleep = sleep
        self.delivery_stream = settings.names.firehose_delivery_stream
        self.delivery_stream_arn = arn(
            "firehose", settings.region, f"deliverystream/{self.delivery_stream}"
        )
        self.function_name = f"{settings.names.prefix}-firehose-transform"
        self.function_arn = function_arn(settings.region, self.function_name)
        self.source_arn = arn("kinesis", settings.region, f"stream/{self.stream.name}")
        self.checkpoints = CheckpointStore(settings.state_dir / "firehose" / name)
        self.stats = DeliveryStats()
        self.columns = reading_columns()
        self._raw_prefix = settings.names.raw_readings_prefix
        self._errors_prefix = settings.names.errors_prefix
        self._shards: dict[str, _Shard] = {}
        self._discovery = ShardDiscovery(
            self.stream, self.checkpoints, starting_position, clock, f"firehose {name}"
        )
        self._buffers: dict[tuple[str, ...], _Buffer] = {}
        self._buffered_bytes = 0
        self._readers: ThreadPoolExecutor | None = None
        self._writers: ThreadPoolExecutor | None = None
        self._writes: deque[Future[_Written]] = deque()
        self._valid_partitions: set[tuple[str, str]] = set()
        if isinstance(self.lake, LocalLakeStorage):
            # Only a directory can hold a crash's temporaries; this worker owns these prefixes.
            for prefix in (self._raw_prefix, self._errors_prefix):
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
        read = 0
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
                # Reading on while this page is transformed hides the Kinesis round trip.
                if not shard.reader.closed:
                    shard.fetch = self._submit_fetch(shard)
                self._deliver(shard, page.records)
                read += len(page.records)
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
        now = self._clock()
        due = [
            key
            for key, buffer in self._buffers.items()
            if force
            or buffer.size >= self.buffer_bytes
            or now - buffer.opened_at >= self.buffer_seconds
        ]
        due.extend(self._overflow(set(due)))
        for key in due:
            self._submit_write(self._take(key))
        started = len(due)
        self._collect(block=False)
        while force and (self._writes or self._buffers):
            # JSON that fails conversion comes back as new error buffers: write those too.
            self._collect(block=True)
            for key in list(self._buffers):
                self._submit_write(self._take(key))
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
        """Stop the threads; files being written are finished and applied. Buffers not yet
        written are dropped from memory: their records are re-read after the checkpoint."""
        if self._readers is not None:
            self._readers.shutdown(wait=True, cancel_futures=True)
            self._readers = None
        for shard in self._shards.values():
            shard.fetch = None
        try:
            self._collect(block=True)
        finally:
            if self._writers is not None:
                self._writers.shutdown(wait=True)
                self._writers = None

    def checkpoint(self, shard_id: str) -> str | None:
        """The durable checkpoint of a shard (``None`` before its first file)."""
        return self.checkpoints.load(shard_id)

    @property
    def buffered_bytes(self) -> int:
        """Bytes of transformed data waiting in buffers."""
        return self._buffered_bytes

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
        batch: list[tuple[_Source, UserRecord]] = []
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
            source = _Source(shard.shard_id, record.sequence_number, record.arrival_ms, len(users))
            shard.pending.append(source)
            for user in users:
                if batch and batch_bytes + len(user.data) > self.invocation_bytes:
                    self._invoke(batch)
                    batch, batch_bytes = [], 0
                batch.append((source, user))
                batch_bytes += len(user.data)
        if batch:
            self._invoke(batch)

    def _invoke(self, batch: list[tuple[_Source, UserRecord]]) -> None:
        self.stats.user_records += len(batch)
        record_ids = [f"{s.shard_id}:{s.sequence_number}:{u.sub_sequence}" for s, u in batch]
        event = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.delivery_stream_arn,
            "sourceKinesisStreamArn": self.source_arn,
            "region": self.settings.region,
            "records": [
                {
                    "recordId": record_id,
                    "approximateArrivalTimestamp": source.arrival_ms,
                    "data": _b64(user.data),
                    "kinesisRecordMetadata": {
                        "sequenceNumber": source.sequence_number,
                        "subsequenceNumber": user.sub_sequence,
                        "partitionKey": user.partition_key,
                        "shardId": source.shard_id,
                        "approximateArrivalTimestamp": source.arrival_ms,
                    },
                }
                for record_id, (source, user) in zip(record_ids, batch, strict=True)
            ],
        }
        outputs: dict[str, dict[str, Any]] | None = None
        problem = ""
        attempts = 0
        for attempt in range(self.transform_retries + 1):
            attempts = attempt + 1
            self.stats.invocations += 1
            try:
                outputs = self._outputs(self.transform(event, self._context()), record_ids)
                break
            except Exception as error:  # the function's error, whatever it is
                self.stats.invocation_failures += 1
                problem = f"{type(error).__name__}: {redact(str(error))}"
                logger.warning(
                    "firehose %s: transform invocation failed (attempt %d): %s",
                    self.name,
                    attempts,
                    type(error).__name__,
                )
                if attempt < self.transform_retries:
                    self._sleep(min(2.0, 0.05 * 2**attempt))
        for record_id, (source, user) in zip(record_ids, batch, strict=True):
            if outputs is None:
                self._fail(source, user, "Lambda.FunctionError", "function", problem, attempts)
            else:
                self._route(source, user, outputs[record_id], attempts)

    def _context(self) -> LambdaContext:
        return invocation_context(
            self.function_name,
            self.function_arn,
            memory_limit_in_mb=256,
            timeout_s=60.0,
            clock=self._clock,
        )

    @staticmethod
    def _outputs(response: Any, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Output records by id; raises ValueError unless there is exactly one per input."""
        if not isinstance(response, dict) or not isinstance(response.get("records"), list):
            raise ValueError("the response is not {'records': [...]}")
        outputs: dict[str, dict[str, Any]] = {}
        for output in response["records"]:
            if not isinstance(output, dict) or output.get("result") not in _RESULTS:
                raise ValueError("an output record has no valid result")
            outputs[str(output.get("recordId"))] = output
        if len(outputs) != len(response["records"]) or outputs.keys() != set(record_ids):
            # Firehose treats any mismatch of record ids as a transformation failure.
            raise ValueError("the output record ids do not match the input record ids")
        return outputs

    def _route(
        self, source: _Source, user: UserRecord, output: dict[str, Any], attempts: int
    ) -> None:
        result = output["result"]
        if result == DROPPED:
            self.stats.dropped += 1
            source.outstanding -= 1
            return
        if result == PROCESSING_FAILED:
            kind, message = failure_reason(output)
            self._fail(source, user, "Lambda.ProcessingFailed", kind, message, attempts)
            return
        keys = (output.get("metadata") or {}).get("partitionKeys") or {}
        partition = (str(keys.get("dt", "")), str(keys.get("hour", "")))
        try:
            data = binascii.a2b_base64(output.get("data") or "", strict_mode=True)
        except (binascii.Error, ValueError, TypeError):
            data = b""
        if partition not in self._valid_partitions:
            if _DT.match(partition[0]) and _HOUR.match(partition[1]):
                self._valid_partitions.add(partition)
            else:
                data = b""
        if not data:
            self._fail(
                source,
                user,
                "DynamicPartitioning.MetadataExtractionFailed",
                "partition",
                "Ok record without data or without valid dt/hour partition keys",
                attempts,
            )
            return
        if not data.endswith(b"\n"):
            data += b"\n"
        self._buffer(("raw", *partition)).add(data, source)
        self._buffered_bytes += len(data)

    def _fail(
        self,
        source: _Source,
        user: UserRecord,
        error_code: str,
        kind: str,
        message: str,
        attempts: int,
    ) -> None:
        """Send a record to the processing-failed error output, its raw bytes preserved."""
        self._error_document(
            source,
            {
                "attemptsMade": attempts,
                "arrivalTimestamp": source.arrival_ms,
                "errorCode": error_code,
                "errorMessage": message,
                "errorKind": kind,
                "attemptEndingTimestamp": int(self._clock() * 1000),
                "rawData": _b64(user.data),
                "lambdaArn": self.function_arn,
                "shardId": source.shard_id,
                "sequenceNumber": source.sequence_number,
                "subSequenceNumber": user.sub_sequence,
                "partitionKey": user.partition_key,
            },
            PROCESSING_FAILED_OUTPUT,
        )

    def _error_document(
        self, source: _Source, document: dict[str, Any], output_type: ErrorOutputType
    ) -> None:
        line = (json.dumps(document, separators=(",", ":")) + "\n").encode()
        dt, hour = partition_of(source.arrival_ms)
        self._buffer(("errors", dt, hour, output_type)).add(line, source)
        self._buffered_bytes += len(line)

    def _buffer(self, key: tuple[str, ...]) -> _Buffer:
        """The open buffer of ``("raw", dt, hour)`` or ``("errors", dt, hour, output type)``."""
        buffer = self._buffers.get(key)
        if buffer is None:
            if key[0] == "raw":
                prefix = partition_prefix(self._raw_prefix, key[1], key[2])
                buffer = _Buffer(prefix, "raw", self._clock())
            else:
                prefix = partition_prefix(self._errors_prefix, key[1], key[2])
                buffer = _Buffer(f"{prefix}{key[3]}/", "errors", self._clock())
            self._buffers[key] = buffer
        return buffer

    # -- writing --------------------------------------------------------------------------

    def _take(self, key: tuple[str, ...]) -> _Buffer:
        buffer = self._buffers.pop(key)
        self._buffered_bytes -= buffer.size
        return buffer

    def _overflow(self, already: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """Buffers to write early: beyond the partition limit, the oldest; beyond the memory
        bound, the biggest."""
        extra: list[tuple[str, ...]] = []
        rest = [k for k in self._buffers if k not in already]
        if len(rest) > MAX_OPEN_BUFFERS:
            rest.sort(key=lambda k: self._buffers[k].opened_at)
            cut = len(rest) - MAX_OPEN_BUFFERS
            extra, rest = rest[:cut], rest[cut:]
        held = sum(self._buffers[k].size for k in rest)
        if held > self.max_buffered_bytes:
            for key in sorted(rest, key=lambda k: -self._buffers[k].size):
                if held <= self.max_buffered_bytes:
                    break
                extra.append(key)
                held -= self._buffers[key].size
        return extra

    def _submit_write(self, buffer: _Buffer) -> None:
        if self._writers is None:
            self._writers = ThreadPoolExecutor(
                self.writer_threads, thread_name_prefix=f"{threading.current_thread().name}-write"
            )
        # Bounded: files in flight hold their buffers' memory.
        while len(self._writes) >= 4 * self.writer_threads:
            self._apply(self._writes.popleft().result())
        self._writes.append(self._writers.submit(self._write, buffer))

    def _collect(self, *, block: bool) -> None:
        """Apply finished writes (all of them with ``block``), then move the checkpoints."""
        applied = False
        while self._writes and (block or self._writes[0].done()):
            self._apply(self._writes.popleft().result())
            applied = True
        if applied:
            self._advance_checkpoints()

    def _file_name(self, suffix: str) -> str:
        return f"{self.delivery_stream}-{_stamp(self._clock())}-{uuid.uuid4().hex}{suffix}"

    def _write(self, buffer: _Buffer) -> _Written:
        """Write one buffer's object (on a writer thread: reads the buffer, changes nothing);
        it is durable when this returns."""
        if buffer.kind == "errors":
            # Each chunk is one compact JSON document and its newline (see _error_document).
            key = buffer.prefix + self._file_name(ERRORS_SUFFIX)
            self.lake.write_bytes(key, b"".join(buffer.chunks))
            return _Written(buffer, len(buffer.chunks), [])
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
        return _Written(buffer, table.num_rows, rejected)

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

    def _apply(self, written: _Written) -> None:
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
            self._error_document(
                source,
                {
                    "attemptsMade": 1,
                    "arrivalTimestamp": source.arrival_ms,
                    "errorCode": "DataFormatConversion.MalformedData",
                    "errorMessage": reason,
                    "errorKind": "format",
                    "attemptEndingTimestamp": int(self._clock() * 1000),
                    # Firehose's rawData for a conversion failure is the transformed record.
                    "rawData": _b64(buffer.chunks[index]),
                    "shardId": source.shard_id,
                    "sequenceNumber": source.sequence_number,
                },
                FORMAT_CONVERSION_FAILED_OUTPUT,
            )

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
        wait = IDLE_POLL_S
        for buffer in self._buffers.values():
            wait = min(wait, max(0.0, buffer.opened_at + self.buffer_seconds - now))
        for shard in self._shards.values():
            if shard.backoff.retry_at > now:
                wait = min(wait, shard.backoff.retry_at - now)
        return max(wait, 0.001)
