"""The transform Lambda, invoked as Firehose invokes it: the transformation event (base64 data,
``kinesisRecordMetadata``), a context, retries of an invocation that raises or answers malformed,
and the check that the response has exactly one output record per input record.

Firehose runs several invocations of the function at once. With ``processes`` the invoker does
too: each invocation runs in one of a pool of worker processes (each a warm Lambda execution
environment with its own interpreter, so that transforms do not share one GIL with the reading,
routing and writing of the delivery worker), and several invocations are in flight while the
worker reads on. Without, an invocation runs on the caller's thread when it is started.
"""

from __future__ import annotations

import base64
import logging
import multiprocessing
import pickle
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from glucosestream.contract.kpl import UserRecord
from glucosestream.lake.raw_zone.transform import DROPPED, OK, PROCESSING_FAILED, redact
from glucosestream.local.firehose.bookkeeping import DeliveryStats, Source
from glucosestream.local.lambda_runtime import invocation_context

logger = logging.getLogger(__name__)

Transform = Callable[[dict[str, Any], Any], Any]
"""``lambda_handler(event, context)`` of a Firehose transform."""

DEFAULT_INVOCATION_BYTES = 1024 * 1024
"""Firehose's Lambda processor buffer size (default 1 MiB of source data per invocation)."""
DEFAULT_TRANSFORM_RETRIES = 3
"""Firehose retries a failed transform invocation three times by default."""

_RESULTS = (OK, DROPPED, PROCESSING_FAILED)
MAX_TRANSFORM_PROCESSES = 32
MEMORY_LIMIT_MB = 256
TIMEOUT_S = 60.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def default_transform() -> Transform:
    # Imported here: glucosestream must import without the Lambda package's Powertools set-up.
    from consumers.firehose_transform.handler import lambda_handler

    handler: Transform = lambda_handler
    return handler


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, retries included."""

    outputs: list[dict[str, Any]] | None
    """One output record per input record, in the batch's order; None: the invocation failed."""
    problem: str
    """Why the last attempt failed (the error's type and redacted message)."""
    attempts: int


class FunctionError(Exception):
    """The function failed: its error's type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name


InputRecord = tuple[str, str, int, int, str, bytes]
"""One user record as an invocation needs it: shard id, sequence number, arrival (epoch ms),
sub-sequence number, partition key, data (compact: it is what crosses to a worker process)."""


def input_records(batch: Sequence[tuple[Source, UserRecord]]) -> list[InputRecord]:
    return [
        (s.shard_id, s.sequence_number, s.arrival_ms, u.sub_sequence, u.partition_key, u.data)
        for s, u in batch
    ]


@dataclass(frozen=True)
class TransformFunction:
    """The transform Lambda as deployed for one delivery stream: how its event is built and how
    its answer is checked (picklable, so that a worker process can do both)."""

    handler: Transform
    region: str
    delivery_stream_arn: str
    source_arn: str
    function_name: str
    function_arn: str

    def event(self, records: Sequence[InputRecord]) -> dict[str, Any]:
        """Firehose's data-transformation event for a Kinesis source."""
        return {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.delivery_stream_arn,
            "sourceKinesisStreamArn": self.source_arn,
            "region": self.region,
            "records": [
                {
                    "recordId": f"{shard_id}:{sequence_number}:{sub_sequence}",
                    "approximateArrivalTimestamp": arrival_ms,
                    "data": b64(data),
                    "kinesisRecordMetadata": {
                        "sequenceNumber": sequence_number,
                        "subsequenceNumber": sub_sequence,
                        "partitionKey": partition_key,
                        "shardId": shard_id,
                        "approximateArrivalTimestamp": arrival_ms,
                    },
                }
                for shard_id, sequence_number, arrival_ms, sub_sequence, partition_key, data in (
                    records
                )
            ],
        }

    def invoke(
        self, records: Sequence[InputRecord], clock: Callable[[], float] = time.time
    ) -> list[dict[str, Any]]:
        """One invocation: the output records in input order. Raises the function's error, or
        ValueError when the response does not hold exactly one output per input record."""
        event = self.event(records)
        context = invocation_context(
            self.function_name,
            self.function_arn,
            memory_limit_in_mb=MEMORY_LIMIT_MB,
            timeout_s=TIMEOUT_S,
            clock=clock,
        )
        by_id = _outputs(self.handler(event, context), event["records"])
        return [by_id[record["recordId"]] for record in event["records"]]


def _outputs(response: Any, inputs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Output records by id; raises ValueError unless there is exactly one per input."""
    if not isinstance(response, dict) or not isinstance(response.get("records"), list):
        raise ValueError("the response is not {'records': [...]}")
    outputs: dict[str, dict[str, Any]] = {}
    for output in response["records"]:
        if not isinstance(output, dict) or output.get("result") not in _RESULTS:
            raise ValueError("an output record has no valid result")
        outputs[str(output.get("recordId"))] = output
    if len(outputs) != len(response["records"]) or outputs.keys() != {
        record["recordId"] for record in inputs
    }:
        # Firehose treats any mismatch of record ids as a transformation failure.
        raise ValueError("the output record ids do not match the input record ids")
    return outputs


def _outcome(
    function: TransformFunction,
    records: list[InputRecord],
    clock: Callable[[], float] = time.time,
) -> tuple[bool, Any]:
    """One invocation, here or in a pool process: ``(True, outputs)`` or
    ``(False, (type, message))`` (an error itself may not survive pickling back)."""
    try:
        return True, function.invoke(records, clock)
    except Exception as error:  # the function's error, whatever it is
        return False, (type(error).__name__, str(error))


def _warm(function: TransformFunction) -> None:
    """Nothing: unpickling ``function`` imported the handler (its cold start) in the process."""


@dataclass(frozen=True)
class PendingInvocation:
    """An invocation started by :meth:`TransformInvoker.start`, its first attempt under way."""

    records: list[InputRecord]
    attempt: Future[Any]

    def done(self) -> bool:
        return self.attempt.done()


class TransformInvoker:
    """Calls the transform on batches of user records, as the delivery stream does.

    Parameters
    ----------
    processes
        Run invocations in this many worker processes (0: on the caller's thread). The
        transform must then be picklable by reference (a module-level function, as a Lambda
        handler is); the processes build the event and check the response too.
    """

    def __init__(
        self,
        transform: Transform,
        *,
        region: str,
        delivery_stream_arn: str,
        source_arn: str,
        function_name: str,
        function_arn: str,
        retries: int,
        stats: DeliveryStats,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        label: str,
        processes: int = 0,
    ) -> None:
        if (
            isinstance(processes, bool)
            or not isinstance(processes, int)
            or not 0 <= processes <= MAX_TRANSFORM_PROCESSES
        ):
            raise ValueError(
                f"transform processes must be 0-{MAX_TRANSFORM_PROCESSES}, got {processes!r}"
            )
        self.function = TransformFunction(
            transform, region, delivery_stream_arn, source_arn, function_name, function_arn
        )
        if processes:
            try:
                pickle.dumps(self.function)
            except (pickle.PicklingError, AttributeError, TypeError) as error:
                raise ValueError(
                    "a transform run in processes must be a module-level function (it is sent "
                    f"to them by name): {error}"
                ) from None
        self.retries = retries
        self.stats = stats
        self._clock = clock
        self._sleep = sleep
        self.label = label
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[Future[None]] = []
        if processes:
            self._start_pool()

    @property
    def concurrency(self) -> int:
        """How many invocations may usefully be in flight at once."""
        return 2 * self.processes if self.processes else 1

    def invoke(self, batch: Sequence[tuple[Source, UserRecord]]) -> Invocation:
        """Invoke the transform on ``batch`` and wait for the outcome."""
        return self.finish(self.start(batch))

    def start(self, batch: Sequence[tuple[Source, UserRecord]]) -> PendingInvocation:
        """Start the first attempt of an invocation on ``batch`` (in a worker process, or here
        and now without processes)."""
        records = input_records(batch)
        return PendingInvocation(records, self._attempt(records))

    def finish(self, pending: PendingInvocation) -> Invocation:
        """Wait for a started invocation, retrying it as Firehose does when it fails."""
        attempt_result = pending.attempt
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                attempt_result = self._attempt(pending.records)
            try:
                outputs = self._response(attempt_result)
            except FunctionError as error:
                self.stats.invocation_failures += 1
                problem = f"{error.type_name}: {redact(str(error))}"
                logger.warning(
                    "firehose %s: transform invocation failed (attempt %d): %s",
                    self.label,
                    attempt + 1,
                    error.type_name,
                )
                if attempt < self.retries:
                    self._sleep(min(2.0, 0.05 * 2**attempt))
                continue
            return Invocation(outputs, problem, attempt + 1)
        return Invocation(None, problem, self.retries + 1)

    def wait_warm(self, timeout_s: float = 60.0) -> None:
        """Wait until every worker process has imported the function (its cold start); raises
        what a process raised, TimeoutError after ``timeout_s``."""
        for warming in self._warming:
            warming.result(timeout_s)

    def close(self) -> None:
        """Stop the worker processes (invocations in flight are abandoned)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _attempt(self, records: list[InputRecord]) -> Future[Any]:
        self.stats.invocations += 1
        if self._pool is None:
            done: Future[Any] = Future()
            done.set_result(_outcome(self.function, records, self._clock))
            return done
        try:
            return self._pool.submit(_outcome, self.function, records)
        except BrokenProcessPool:
            return self._healthy_pool().submit(_outcome, self.function, records)

    def _response(self, attempt: Future[Any]) -> Any:
        """The function's output records; raises :class:`FunctionError` (a worker process
        that died: ``Runtime.ExitError``)."""
        try:
            succeeded, answer = attempt.result()
        except BrokenProcessPool:
            # The execution environment died (killed, out of memory): Lambda reports the
            # invocation failed; the next attempt gets fresh processes.
            self._healthy_pool()
            raise FunctionError("Runtime.ExitError", "a transform process exited") from None
        if not succeeded:
            raise FunctionError(*answer)
        return answer

    def _start_pool(self) -> None:
        # spawn, not fork: the delivery worker has reader and writer threads running.
        self._pool = ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn")
        )
        self._warming = [self._pool.submit(_warm, self.function) for _ in range(self.processes)]

    def _healthy_pool(self) -> ProcessPoolExecutor:
        """The pool, replaced when broken (once for all the invocations that were in it)."""
        assert self._pool is not None, "only called with processes"
        try:
            self._pool.submit(_warm, self.function)
            return self._pool
        except BrokenProcessPool:
            pass
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._start_pool()
        logger.warning("firehose %s: transform processes restarted", self.label)
        assert self._pool is not None
        return self._pool
