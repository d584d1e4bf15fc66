"""The local Kinesis → Lambda event-source mapping: poll shards, invoke a handler in-process.

AWS Lambda reads a Kinesis stream through an *event-source mapping* (ESM). This module is its
stand-in on one machine: it polls every shard of the local stream (kinesalite), builds the exact
Lambda Kinesis event, calls the same ``lambda_handler(event, context)`` that runs in AWS, and
applies the mapping settings we deploy with the semantics AWS documents ("Using Lambda with
Kinesis", "Lambda parameters for Kinesis event source mappings", "Configuring partial batch
response", "Retain discarded batch records"):

* Per shard, one batch at a time, strictly in order (ParallelizationFactor 1). A batch holds up to
  ``batch_size`` records and stays under the 6 MiB synchronous invocation payload; with a batching
  window the mapping waits up to the window to fill it.
* The handler raises → function error: the whole batch is retried. With
  ``bisect_batch_on_function_error`` a failed batch of two or more records is split in two and the
  halves are retried separately; splitting does not consume the retry quota, retrying an
  unsplittable (single-record) batch does.
* The handler returns ``{"batchItemFailures": [{"itemIdentifier": <sequence number>}, ...]}`` with
  ReportBatchItemFailures on: everything before the lowest failed sequence number is checkpointed
  and the rest of the batch is retried (one retry attempt). Empty list, ``None``, or no key =
  success; an identifier that is not a sequence number of the batch, or a malformed response,
  fails the whole batch.
* Retries exhausted, or records older than ``maximum_record_age_s``: the records are discarded
  (the checkpoint moves past them) and, with an on-failure destination, one message of metadata per
  discarded batch goes to the SQS queue, in the shape AWS sends.
* With infinite retries and no age limit a failing batch blocks its shard, as in AWS; the retries
  back off (0.1 s doubling to 5 s) per shard, so other shards go on.
* After every completed or discarded batch the shard's last sequence number is written atomically
  to ``<state_dir>/esm/<name>/<shardId>.json``; a restart resumes after it (at-least-once: the
  in-flight batch of a killed runner is delivered again).

Deliberately simplified: the function timeout is reported through
``get_remaining_time_in_millis`` but not enforced (an in-process call cannot be cut short);
tumbling windows, filtering, AT_TIMESTAMP, enhanced fan-out and ParallelizationFactor > 1 are not
implemented.

After a reshard, as in AWS, a new shard is read from its start and only once each of its parents
(the shard a split or a merge closed) is done — read to its end and every record delivered or
discarded — so the records of one partition key reach the function in order across the reshard.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import (
    GET_RECORDS_LIMIT,
    ShardReader,
    ShardSource,
    StreamRecord,
    readings_stream,
)
from glucosestream.lake.durable_files import write_atomically
from glucosestream.local.lambda_runtime import function_arn, invocation_context
from glucosestream.local.shards import Backoff, ShardDiscovery, StartingPosition
from glucosestream.settings import Settings, arn

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Synchronous invocation payload limit; the mapping cuts batches to stay under it."""

IDLE_POLL_S = 0.2
READ_AHEAD_RECORDS = 1_000
"""GetRecords Limit: reading ahead of small batches saves calls; the buffer is only memory, the
checkpoint still follows what the function processed."""
MAX_GET_RECORDS_CALLS = 5
"""GetRecords calls per shard and pass when topping up a batch; bounds the time one shard holds
a pass."""

Handler = Callable[[dict[str, Any], Any], object]
"""``lambda_handler(event, context)``; the context parameter is ``Any`` so that handlers typed
with Powertools' ``LambdaContext`` fit."""

WHOLE_BATCH = -1
"""Marks a function error, or a response that fails the whole batch."""

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingConfig:
    """The event-source mapping parameters, named and bounded as in ``CreateEventSourceMapping``.

    Parameters
    ----------
    batch_size
        BatchSize: most records per invocation, 1-10000.
    maximum_batching_window_s
        MaximumBatchingWindowInSeconds: how long to gather records before invoking, 0-300. AWS
        takes whole seconds; fractions are accepted here so local runs and tests stay short.
    report_batch_item_failures
        FunctionResponseTypes contains ReportBatchItemFailures.
    bisect_batch_on_function_error
        BisectBatchOnFunctionError.
    maximum_retry_attempts
        MaximumRetryAttempts: -1 (infinite) or 0-10000.
    maximum_record_age_s
        MaximumRecordAgeInSeconds: -1 (infinite) or 60-604800.
    starting_position
        StartingPosition used when no checkpoint exists: TRIM_HORIZON or LATEST.
    on_failure_queue_url
        DestinationConfig.OnFailure, as the URL of an SQS queue; ``None`` for no destination.

    Raises
    ------
    ValueError
        When a parameter is out of range; the message names the parameter.
    """

    batch_size: int = 100
    maximum_batching_window_s: float = 0
    report_batch_item_failures: bool = True
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    starting_position: StartingPosition = "TRIM_HORIZON"
    on_failure_queue_url: str | None = None

    def __post_init__(self) -> None:
        _check_int("batch_size", self.batch_size, 1, 10_000)
        window = self.maximum_batching_window_s
        if (
            isinstance(window, bool)
            or not isinstance(window, int | float)
            or not 0 <= window <= 300
        ):
            raise ValueError(f"maximum_batching_window_s must be 0-300 seconds, got {window!r}")
        for name in ("report_batch_item_failures", "bisect_batch_on_function_error"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.maximum_retry_attempts != -1:
            _check_int("maximum_retry_attempts", self.maximum_retry_attempts, 0, 10_000, "-1 or ")
        if self.maximum_record_age_s != -1:
            _check_int("maximum_record_age_s", self.maximum_record_age_s, 60, 604_800, "-1 or ")
        if self.starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError(
                f"starting_position must be TRIM_HORIZON or LATEST, got {self.starting_position!r}"
            )
        url = self.on_failure_queue_url
        if url is not None and not (isinstance(url, str) and re.match(r"^https?://\S+$", url)):
            raise ValueError(f"on_failure_queue_url must be an SQS queue URL, got {url!r}")


def _check_int(name: str, value: object, low: int, high: int, also: str = "") -> None:
    # bool is an int subclass; True as a batch size is a bug, not a 1.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be {also}{low}-{high}, got {value!r}")


# --------------------------------------------------------------------------------------------
# Event, context and on-failure record shapes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionIdentity:
    """Who the mapping invokes: the names and ARNs that appear in events and contexts."""

    function_name: str
    region: str
    role_name: str
    memory_limit_in_mb: int = 128
    timeout_s: float = 60.0

    @property
    def function_arn(self) -> str:
        return function_arn(self.region, self.function_name)

    @property
    def role_arn(self) -> str:
        return arn("iam", "", f"role/{self.role_name}")


def event_record(
    record: StreamRecord, *, region: str, source_arn: str, role_arn: str
) -> dict[str, Any]:
    """One element of a Lambda Kinesis event's ``Records`` list, as AWS builds it."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode("ascii"),
            "approximateArrivalTimestamp": record.arrival_ms / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{record.shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": source_arn,
    }


def _iso(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


class CheckpointStore:
    """The last processed sequence number per shard, one small JSON file per shard.

    Writes are atomic and durable (temporary file, fsync, rename, fsync of the directory), so a
    reader or a restarted runner sees either the old or the new checkpoint, never a torn one.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, shard_id: str) -> Path:
        return self.directory / f"{shard_id}.json"

    def load(self, shard_id: str) -> str | None:
        """The checkpointed sequence number of a shard, or ``None`` if it has none."""
        try:
            document = json.loads(self.path(shard_id).read_text())
        except FileNotFoundError:
            return None
        sequence = document.get("sequence_number")
        if not isinstance(sequence, str):
            raise ValueError(f"{self.path(shard_id)} holds no sequence_number")
        return sequence

    def save(self, shard_id: str, sequence_number: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        document = {
            "shard_id": shard_id,
            "sequence_number": sequence_number,
            "updated_at": _iso(time.time()),
        }
        write_atomically(self.path(shard_id), json.dumps(document).encode(), permissions=0o600)


# --------------------------------------------------------------------------------------------
# The mapping
# --------------------------------------------------------------------------------------------


@dataclass
class MappingStats:
    """Counters since the mapping was created (read them from any thread)."""

    batches: int = 0
    """Invocations of the function."""
    records: int = 0
    """Records passed to the function, redeliveries included."""
    records_succeeded: int = 0
    """Records checkpointed after the function processed them."""
    function_errors: int = 0
    """Invocations that raised (or returned a response that fails the whole batch)."""
    partial_failures: int = 0
    """Invocations that reported batchItemFailures."""
    retries: int = 0
    """Retry attempts consumed (bisections are not retries)."""
    bisections: int = 0
    records_discarded: int = 0
    on_failure_messages: int = 0
    read_errors: int = 0
    """GetRecords calls that failed (the shard backs off and tries again)."""
    millis_behind_latest: dict[str, int] = field(default_factory=dict)
    """Last MillisBehindLatest GetRecords reported, per shard."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to counters; shards run on their own threads."""
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


@dataclass
class _Record:
    record: StreamRecord
    event: dict[str, Any]
    size: int
    """Bytes this record adds to the JSON event."""


@dataclass
class _Segment:
    """Records at the head of a shard that are being delivered, possibly after failures."""

    records: list[_Record]
    retries: int = 0
    invokes: int = 0
    last_request_id: str = ""
    last_function_error: str | None = None
    discard_condition: str | None = None
    """Set once the records are to be discarded; kept until the on-failure message is sent."""


@dataclass
class _Shard:
    reader: ShardReader
    buffer: deque[_Record] = field(default_factory=deque)
    segments: deque[_Segment] = field(default_factory=deque)
    window_started: float | None = None
    backoff: Backoff = field(default_factory=Backoff)
    """Shared by failed reads and retried batches: one failure streak per shard."""

    @property
    def shard_id(self) -> str:
        return self.reader.shard_id


class EventSourceMapping:
    """A Kinesis event-source mapping that invokes ``function`` in this process.

    Parameters
    ----------
    name
        The mapping's name (``[a-z][a-z0-9-]*``, e.g. ``"alerts"``): names the checkpoint
        directory ``<state_dir>/esm/<name>/`` and, as ``gs-<env>-<name>``, the function and its
        role in events and contexts.
    settings
        Resource names, region, state directory and (unless injected) client endpoints.
    function
        The Lambda handler, ``function(event, context)``.
    config
        The mapping parameters.
    stream
        The stream to read; by default the readings stream through ``aws_client("kinesis")``.
    sqs
        A boto3 SQS client for the on-failure destination; by default ``aws_client("sqs")``,
        created only when a destination is configured.
    sleep
        How :meth:`run` waits when idle; ``None`` waits on its stop event (so stopping is prompt).
    clock
        Epoch seconds; record ages, backoff and batching windows are measured with it.
    memory_limit_in_mb, timeout_s
        Reported through the context object, as the function's configuration would be.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        function: Handler,
        config: MappingConfig | None = None,
        *,
        stream: ShardSource | None = None,
        sqs: Any = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        memory_limit_in_mb: int = 128,
        timeout_s: float = 60.0,
    ) -> None:
        if not _NAME.match(name):
            raise ValueError(f"name must match {_NAME.pattern}, got {name!r}")
        self.name = name
        self.settings = settings
        self.function = function
        self.config = config or MappingConfig()
        self.stream: ShardSource = stream or readings_stream(settings)
        if sqs is None and self.config.on_failure_queue_url is not None:
            sqs = aws_client("sqs", settings)
        self._sqs = sqs
        self._sleep = sleep
        self._clock = clock
        self.identity = FunctionIdentity(
            function_name=f"{settings.names.prefix}-{name}",
            region=settings.region,
            role_name=f"{settings.names.prefix}-{name}",
            memory_limit_in_mb=memory_limit_in_mb,
            timeout_s=timeout_s,
        )
        self.source_arn = arn("kinesis", settings.region, f"stream/{self.stream.name}")
        self.checkpoints = CheckpointStore(settings.state_dir / "esm" / name)
        self.stats = MappingStats()
        self._shards: dict[str, _Shard] = {}
        self._discovery = ShardDiscovery(
            self.stream, self.checkpoints, self.config.starting_position, clock, f"esm {name}"
        )
        self._pool: ThreadPoolExecutor | None = None

    # -- public API -----------------------------------------------------------------------

    def poll_once(self) -> int:
        """One pass over every shard: read, invoke at most once per shard, checkpoint.

        Returns
        -------
        int
            Records passed to the function in this pass (redeliveries included); 0 means the
            pass found nothing to do now (idle, waiting out a backoff or a batching window).
        """
        self._refresh_shards()
        shards = [shard for shard in self._shards.values() if self._parents_done(shard)]
        if len(shards) < 2:
            return sum(self._step(shard) for shard in shards)
        # AWS runs one invocation per shard at a time, shards concurrently: so do we.
        return sum(self._shard_pool().map(self._step, shards))

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, each shard on its own schedule, as AWS polls each shard:
        a shard's batch is invoked when its window is due, whatever another shard's invocation
        is doing (passes of :meth:`poll_once` would hold it until the slowest shard's returns).
        A shard that had nothing to do is stepped again after ~0.2 s, or sooner if its retry or
        batching window is due. Returns once no invocation is running."""
        pool = self._shard_pool()
        in_flight: dict[str, Future[int]] = {}
        due: dict[str, float] = {}
        try:
            while not stop.is_set():
                now = self._clock()
                for shard_id, step in list(in_flight.items()):
                    if step.done():
                        del in_flight[shard_id]
                        worked = step.result() > 0  # a failing step stops the runner, as before
                        shard = self._shards[shard_id]
                        due[shard_id] = now if worked else now + self._idle_wait(shard, now)
                self._refresh_shards()
                for shard in self._shards.values():
                    shard_id = shard.shard_id
                    if shard_id in in_flight or due.get(shard_id, now) > now:
                        continue
                    if self._parents_done(shard):
                        in_flight[shard_id] = pool.submit(self._step, shard)
                    else:
                        due[shard_id] = now + IDLE_POLL_S
                idle = [due.get(s, now) for s in self._shards if s not in in_flight]
                wait_s = max(min(idle, default=now + IDLE_POLL_S) - now, 0.001)
                if in_flight:
                    wait(in_flight.values(), timeout=wait_s, return_when=FIRST_COMPLETED)
                elif self._sleep is None:
                    stop.wait(wait_s)
                else:
                    self._sleep(wait_s)
        finally:
            wait(in_flight.values())

    def _shard_pool(self) -> ThreadPoolExecutor:
        """The threads that step shards, one step of each shard at a time."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(thread_name_prefix=f"{threading.current_thread().name}")
        return self._pool

    def checkpoint(self, shard_id: str) -> str | None:
        """The durable checkpoint of a shard (``None`` before its first batch)."""
        return self.checkpoints.load(shard_id)

    # -- shards ---------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        for reader in self._discovery.new_shards(self._shards):
            self._shards[reader.shard_id] = _Shard(reader)

    def _parents_done(self, shard: _Shard) -> bool:
        """Whether every parent of the shard is done (see the module's reshard note); a parent
        no longer listed (its records expired) holds nothing to wait for."""
        lineage = self._discovery.lineage
        for parent_id in lineage.get(shard.shard_id, ()):
            parent = self._shards.get(parent_id)
            if parent is None:
                if parent_id in lineage:
                    return False  # listed, but not positioned yet
                continue
            if not parent.reader.closed or parent.buffer or parent.segments:
                return False
        return True

    def _fetch(self, shard: _Shard) -> None:
        """Top the shard's buffer up towards a full batch with a few GetRecords calls."""
        for _ in range(MAX_GET_RECORDS_CALLS):
            if shard.reader.closed or len(shard.buffer) >= self.config.batch_size:
                return
            wanted = max(READ_AHEAD_RECORDS, self.config.batch_size - len(shard.buffer))
            try:
                # An iterator unused for 5 minutes (a batch retried that long) is renewed.
                page = shard.reader.read(min(GET_RECORDS_LIMIT, wanted))
            except (ClientError, BotoCoreError) as error:
                self._read_failed(shard, error)
                return
            self.stats.millis_behind_latest[shard.shard_id] = page.millis_behind_latest
            # _fetch runs with no batch in flight: no failure streak to keep.
            shard.backoff.succeeded()
            for record in page.records:
                event = event_record(
                    record,
                    region=self.settings.region,
                    source_arn=self.source_arn,
                    role_arn=self.identity.role_arn,
                )
                size = len(json.dumps(event, separators=(",", ":"))) + 2
                shard.buffer.append(_Record(record, event, size))
            if not page.records and page.millis_behind_latest == 0:
                return

    def _read_failed(self, shard: _Shard, error: Exception) -> None:
        self.stats.add(read_errors=1)
        logger.warning("esm %s: GetRecords on %s failed: %s", self.name, shard.shard_id, error)
        shard.backoff.failed(self._clock())

    # -- one step of one shard ------------------------------------------------------------

    def _step(self, shard: _Shard) -> int:
        now = self._clock()
        if now < shard.backoff.retry_at:
            return 0
        if not shard.segments:
            self._fetch(shard)
            batch = self._take_batch(shard, now)
            if batch is None:
                return 0
            shard.segments.append(_Segment(batch))
        while shard.segments:
            segment = shard.segments[0]
            if segment.discard_condition is None and self._expire(shard, segment):
                continue  # the expired records now lead the shard
            if segment.discard_condition is not None:
                if not self._discard(shard, segment):
                    return 0
                continue
            return self._invoke(shard, segment)
        return 0

    def _take_batch(self, shard: _Shard, now: float) -> list[_Record] | None:
        if not shard.buffer:
            shard.window_started = None
            return None
        config = self.config
        if shard.window_started is None:
            shard.window_started = now
        full = len(shard.buffer) >= config.batch_size or shard.reader.closed
        if not full and now - shard.window_started < config.maximum_batching_window_s:
            return None
        batch: list[_Record] = []
        payload = len('{"Records":[]}')
        while shard.buffer and len(batch) < config.batch_size:
            if batch and payload + shard.buffer[0].size > MAX_PAYLOAD_BYTES:
                break
            item = shard.buffer.popleft()
            payload += item.size
            batch.append(item)
        shard.window_started = now if shard.buffer else None
        return batch

    def _expire(self, shard: _Shard, segment: _Segment) -> bool:
        """Split off the records older than the maximum age as a batch to discard, ahead of the
        rest; ``True`` if there were any."""
        max_age = self.config.maximum_record_age_s
        if max_age == -1:
            return False
        oldest_allowed_ms = (self._clock() - max_age) * 1000
        # Arrival times only rise within a shard, but cutting after the LAST expired record keeps
        # the checkpoint monotonic even if they did not.
        cut = 0
        for index, item in enumerate(segment.records):
            if item.record.arrival_ms < oldest_allowed_ms:
                cut = index + 1
        if cut == 0:
            return False
        expired = _Segment(
            segment.records[:cut],
            retries=segment.retries,
            invokes=segment.invokes,
            last_request_id=segment.last_request_id,
            last_function_error=segment.last_function_error,
            discard_condition="RecordAgeExceeded",
        )
        segment.records = segment.records[cut:]
        shard.segments.popleft()
        if segment.records:
            shard.segments.appendleft(segment)
        shard.segments.appendleft(expired)
        return True

    def _invoke(self, shard: _Shard, segment: _Segment) -> int:
        records = segment.records
        context = invocation_context(
            self.identity.function_name,
            self.identity.function_arn,
            memory_limit_in_mb=self.identity.memory_limit_in_mb,
            timeout_s=self.identity.timeout_s,
            clock=self._clock,
        )
        request_id = context.aws_request_id
        event = {"Records": [item.event for item in records]}
        segment.invokes += 1
        segment.last_request_id = request_id
        self.stats.add(batches=1)
        self.stats.add(records=len(records))
        raised = False
        response: object = None
        try:
            response = self.function(event, context)
        except Exception:
            raised = True
            logger.exception(
                "esm %s: function error on %s (%d records from %s)",
                self.name,
                shard.shard_id,
                len(records),
                records[0].record.sequence_number,
            )

        failed_from = WHOLE_BATCH if raised else self._first_failure(response, records)
        if failed_from is None:
            self._completed(shard, records)
            shard.segments.popleft()
            shard.backoff.succeeded()
            return len(records)

        if failed_from != WHOLE_BATCH:
            # Partial batch response: what precedes the lowest failed record is done; the rest is
            # retried as it is (with bisect on too, AWS "bisects at the returned sequence number").
            self.stats.add(partial_failures=1)
            self._completed(shard, records[:failed_from])
            segment.records = records[failed_from:]
            segment.last_function_error = None
            self._retry_or_discard(shard, segment)
            return len(records)

        self.stats.add(function_errors=1)
        segment.last_function_error = "Unhandled" if raised else None
        if self.config.bisect_batch_on_function_error and len(records) > 1:
            # Splitting does not consume the retry quota (AWS: kinesis-on-failure-destination).
            self.stats.add(bisections=1)
            middle = len(records) // 2
            halves = [
                _Segment(
                    part,
                    retries=segment.retries,
                    invokes=segment.invokes,
                    last_request_id=request_id,
                    last_function_error=segment.last_function_error,
                )
                for part in (records[:middle], records[middle:])
            ]
            shard.segments.popleft()
            shard.segments.extendleft(reversed(halves))
            return len(records)
        self._retry_or_discard(shard, segment)
        return len(records)

    def _first_failure(self, response: object, records: list[_Record]) -> int | None:
        """Index of the lowest failed record, ``None`` for success, or ``WHOLE_BATCH`` when the
        response fails the whole batch (handled like a function error)."""
        if not self.config.report_batch_item_failures or response is None:
            return None
        if not isinstance(response, dict):
            return WHOLE_BATCH
        failures = response.get("batchItemFailures")
        if failures is None or failures == []:
            return None
        if not isinstance(failures, list):
            return WHOLE_BATCH
        index_of = {item.record.sequence_number: i for i, item in enumerate(records)}
        lowest = len(records)
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(identifier, str) or identifier not in index_of:
                logger.warning(
                    "esm %s: batchItemFailures names %r, not a sequence number of the batch: "
                    "the whole batch failed",
                    self.name,
                    failure,
                )
                return WHOLE_BATCH
            lowest = min(lowest, index_of[identifier])
        return lowest

    def _retry_or_discard(self, shard: _Shard, segment: _Segment) -> None:
        limit = self.config.maximum_retry_attempts
        if limit != -1 and segment.retries >= limit:
            segment.discard_condition = "RetryAttemptsExhausted"
            return
        segment.retries += 1
        self.stats.add(retries=1)
        shard.backoff.failed(self._clock())

    def _completed(self, shard: _Shard, records: list[_Record]) -> None:
        if not records:
            return
        self.checkpoints.save(shard.shard_id, records[-1].record.sequence_number)
        self.stats.add(records_succeeded=len(records))

    def _discard(self, shard: _Shard, segment: _Segment) -> bool:
        """Skip the segment's records; ``False`` if the on-failure message could not be sent."""
        records = segment.records
        if self.config.on_failure_queue_url is not None:
            message = self._on_failure_record(shard, segment)
            try:
                self._sqs.send_message(
                    QueueUrl=self.config.on_failure_queue_url, MessageBody=json.dumps(message)
                )
            except (ClientError, BotoCoreError) as error:
                # Checkpointing past records whose failure was not recorded would lose them
                # silently; keep the shard here and try again after a backoff.
                logger.warning("esm %s: on-failure message not sent: %s", self.name, error)
                shard.backoff.failed(self._clock())
                return False
            self.stats.add(on_failure_messages=1)
        logger.warning(
            "esm %s: discarded %d records of %s (%s), %s to %s",
            self.name,
            len(records),
            shard.shard_id,
            segment.discard_condition,
            records[0].record.sequence_number,
            records[-1].record.sequence_number,
        )
        self.checkpoints.save(shard.shard_id, records[-1].record.sequence_number)
        self.stats.add(records_discarded=len(records))
        shard.segments.popleft()
        shard.backoff.succeeded()
        return True

    def _on_failure_record(self, shard: _Shard, segment: _Segment) -> dict[str, Any]:
        first, last = segment.records[0].record, segment.records[-1].record
        return {
            "requestContext": {
                "requestId": segment.last_request_id or str(uuid.uuid4()),
                "functionArn": self.identity.function_arn,
                "condition": segment.discard_condition,
                "approximateInvokeCount": segment.invokes,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": segment.last_function_error,
            },
            "version": "1.0",
            "timestamp": _iso(self._clock()),
            "KinesisBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first.sequence_number,
                "endSequenceNumber": last.sequence_number,
                "approximateArrivalOfFirstRecord": _iso(first.arrival_ms / 1000),
                "approximateArrivalOfLastRecord": _iso(last.arrival_ms / 1000),
                "batchSize": len(segment.records),
                "streamArn": self.source_arn,
            },
        }

    def _idle_wait(self, shard: _Shard, now: float) -> float:
        """How long an idle shard waits before its next step: ~0.2 s, or until its retry or its
        batching window is due."""
        wait = IDLE_POLL_S
        if shard.backoff.retry_at > now:
            wait = min(wait, shard.backoff.retry_at - now)
        if shard.window_started is not None:
            due = shard.window_started + self.config.maximum_batching_window_s
            wait = min(wait, max(0.0, due - now))
        return max(wait, 0.001)
