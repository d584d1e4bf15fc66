"""Live feeds for the dashboard: readings from the Kinesis stream, alerts from the SQS queue
subscribed to the alerts topic.

One :class:`LiveFeed` per server (not per browser session): a single background thread tails
every shard from its tip and drains the alerts feed queue, keeping bounded per-patient buffers;
sessions read from the buffers with a cursor, so many open pages cost no extra AWS calls and a
session's periodic callback never waits on the network. When the stack is not reachable the
feed says so in :attr:`LiveFeed.status` and keeps retrying.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import (
    ShardReader,
    ShardSource,
    StreamRecord,
    readings_stream,
)
from glucosestream.adapters.sqs_queue import MAX_MESSAGES_PER_RECEIVE, SqsQueue
from glucosestream.contract.alert_message import NotAnAlert, alert_of_message
from glucosestream.contract.records import UndecodableRecord, decode_record
from glucosestream.settings import Settings

logger = logging.getLogger(__name__)

MINUTE_MS = 60_000
ALERT_RECEIVES_PER_POLL = 10


@dataclass(frozen=True, slots=True)
class LivePoint:
    sequence: int
    """Position in the feed (a session's cursor)."""
    patient_id: str
    measured_at_ms: int
    local_ms: int
    """measured_at + utc_offset: the patient's wall clock, drawn on the time axis."""
    glucose_mg_dl: int
    trend: str


@dataclass(frozen=True, slots=True)
class LiveAlert:
    sequence: int
    patient_id: str
    kind: str
    severity: str
    glucose_mg_dl: int
    local_ms: int
    alert_id: str = ""
    """The contract's id, what an acknowledgement names."""
    repeat: int = 0
    """0: the episode's first page; n: the n-th repeat of an unacknowledged URGENT_LOW."""
    silenced: bool = False
    """Raised in the patient's quiet hours: recorded and shown, not paged."""


class StreamTail:
    """A stream's records from now on: every shard from its tip, and after a reshard the shards
    it opened from their start (all their records are new), read once the shard they replace
    is read to its end — so one patient's readings stay in order across the reshard."""

    def __init__(self, stream: ShardSource, limit: int = 1000) -> None:
        self.stream = stream
        self.limit = limit
        self.readers = [ShardReader.at(stream, shard, latest=True) for shard in stream.shard_ids()]
        self._children_due = False
        """A shard was read to its end and the shards replacing it are not followed yet."""

    @property
    def open_shards(self) -> int:
        return sum(not reader.closed for reader in self.readers)

    def read(self) -> list[StreamRecord]:
        """What arrived since the last call (a page a shard at most)."""
        records: list[StreamRecord] = []
        for reader in self.readers:
            if reader.closed:
                continue
            records.extend(reader.read(limit=self.limit).records)
            self._children_due = self._children_due or reader.closed
        if self._children_due:  # listed until the reshard's new shards appear
            known = {reader.shard_id for reader in self.readers}
            children = [shard for shard in self.stream.shard_ids() if shard not in known]
            self.readers += [ShardReader.at(self.stream, shard) for shard in children]
            self._children_due = not children
        return records


class LiveFeed:
    """Tails the readings stream and the alerts feed queue into bounded in-memory buffers."""

    def __init__(
        self,
        settings: Settings,
        *,
        poll_s: float = 0.5,
        retry_s: float = 3.0,
        keep_per_patient: int = 2016,
        keep_alerts: int = 200,
        client_factory: Callable[[str], Any] | None = None,
        alerts_queue: str | None = None,
    ) -> None:
        self.settings = settings
        # SQS hands each message to one consumer: a process that also drains the feed queue
        # (the demo's console) should give the dashboard a queue of its own.
        self.alerts_queue = alerts_queue or settings.names.dashboard_alerts_queue
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.keep_per_patient = keep_per_patient
        self._factory = client_factory or (
            lambda service: aws_client(service, settings, max_attempts=1)
        )
        self._lock = threading.Lock()
        self._readings: dict[str, deque[LivePoint]] = {}
        self._alerts: deque[LiveAlert] = deque(maxlen=keep_alerts)
        self._sequence = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = "connecting to the live stream…"
        self.connected = False

    # ------------------------------------------------------------------------------ sessions

    def patients(self) -> list[str]:
        with self._lock:
            return sorted(self._readings)

    def readings_since(self, patient_id: str, cursor: int) -> tuple[list[LivePoint], int]:
        """The patient's buffered readings after ``cursor``, and the new cursor."""
        with self._lock:
            points = [p for p in self._readings.get(patient_id, ()) if p.sequence > cursor]
            return points, self._sequence

    def alerts_since(self, cursor: int) -> tuple[list[LiveAlert], int]:
        with self._lock:
            return [a for a in self._alerts if a.sequence > cursor], self._sequence

    # ------------------------------------------------------------------------------- worker

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="dashboard-live", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as error:  # the stack stopped, or never ran: say so, retry
                self.connected = False
                self.status = (
                    "Live data unavailable: the local stack is not reachable "
                    f"({type(error).__name__}). Start it with `glucosestream local up` or "
                    "`make run`; retrying…"
                    if self.settings.mode == "local"
                    else f"Live data unavailable ({type(error).__name__}); retrying…"
                )
                self._stop.wait(self.retry_s)

    def _follow(self) -> None:
        stream = readings_stream(self.settings, self._factory("kinesis"))
        alerts = SqsQueue(self._factory("sqs"), self.alerts_queue)
        queue_url = alerts.url  # a missing queue fails here, before the feed says "connected"
        tail = StreamTail(stream)
        self.connected = True
        while not self._stop.is_set():
            self.status = (
                f"live: following {tail.open_shards} shards of {stream.name}, "
                f"alerts from {queue_url.rsplit('/', 1)[-1]}"
            )
            for record in tail.read():
                with contextlib.suppress(UndecodableRecord):
                    self.add_readings(decode_record(record.data, record.partition_key))
            self.drain_alerts(alerts)
            self._stop.wait(self.poll_s)

    def drain_alerts(self, alerts: SqsQueue) -> None:
        """Shows what the queue holds, up to :data:`ALERT_RECEIVES_PER_POLL` receives of ten: a
        wave of alerts reaches the page in one poll, not ten a poll."""
        for _ in range(ALERT_RECEIVES_PER_POLL):
            messages = alerts.receive()
            for message in messages:
                self.add_alert(message.body)
            # Any message SQS did not delete comes back and is shown again: at least once.
            alerts.delete_many(messages)
            if len(messages) < MAX_MESSAGES_PER_RECEIVE:
                return

    def add_readings(self, readings: list[Any]) -> None:
        with self._lock:
            for reading in readings:
                self._sequence += 1
                buffer = self._readings.setdefault(
                    reading.patient_id, deque(maxlen=self.keep_per_patient)
                )
                buffer.append(
                    LivePoint(
                        sequence=self._sequence,
                        patient_id=reading.patient_id,
                        measured_at_ms=reading.measured_at,
                        local_ms=reading.measured_at + reading.utc_offset_minutes * MINUTE_MS,
                        glucose_mg_dl=reading.glucose_mg_dl,
                        trend=str(reading.trend),
                    )
                )

    def add_alert(self, body: str) -> None:
        try:
            alert = alert_of_message(body)
        except NotAnAlert as error:
            # Not an alert of the contract: nothing to show, but said (the feed's message is
            # deleted: it could never be shown).
            logger.warning(
                "alerts feed: a message that is not an alert (%s) was not shown: %.120r",
                error,
                body,
            )
            return
        parsed = LiveAlert(
            sequence=0,
            patient_id=alert.patient_id,
            kind=alert.kind.value,
            severity=alert.severity.value,
            glucose_mg_dl=alert.glucose_mg_dl,
            local_ms=alert.measured_at + alert.utc_offset_minutes * MINUTE_MS,
            alert_id=alert.alert_id,
            repeat=alert.repeat,
            silenced=alert.silenced,
        )
        with self._lock:
            self._sequence += 1
            self._alerts.append(dataclasses.replace(parsed, sequence=self._sequence))
