"""The path from phone to stream: latency, duplicates, late and out-of-order delivery.

Each reading becomes one or more :class:`Delivery` objects with an ``arrival_at``. Normal
uploads arrive 3-30 s after measurement. At configured rates a reading is delivered twice (an
uploader retry re-sends the same encoded record, so ``produced_at`` is that of the first
send), held back for 10 minutes to hours, or overtaken by the next reading. Phone-offline
windows hold every reading measured in them and release the backlog, in measurement order, when
the phone reconnects. Nothing is dropped here: every reading is delivered at least once.

Deliveries are released in arrival order. A reading measured in a later chunk cannot arrive
before that chunk starts, so after each chunk every queued delivery due before the chunk's end
is final; only the ones due later stay queued (bounded by the late and outage windows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from glucosestream.domain.reading import GlucoseReading, ReadingSource
from stream.simulator.cohort import TRANSPORT_STREAM, VirtualPatient, patient_streams
from stream.simulator.config import TransportFaults
from stream.simulator.sensor import STATUSES, TRENDS, ReadingBatch

UPLOAD_MIN_MS = 3_000
UPLOAD_SPREAD_MS = 27_000
LATE_MIN_MINUTES = 10.0
OUTAGE_MIN_MINUTES = 15.0
DUPLICATE_MAX_DELAY_MS = 600_000
MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Delivery:
    """A reading as it reaches the stream: ``arrival_at`` in UTC epoch milliseconds."""

    arrival_at: int
    reading: GlucoseReading


@dataclass
class Scheduled:
    """Deliveries of a batch: rows of ``batch`` with their arrival and production times."""

    batch: ReadingBatch
    arrival: NDArray[np.int64]
    produced: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.arrival)

    def take(self, index: NDArray[np.int64]) -> Scheduled:
        return Scheduled(self.batch.take(index), self.arrival[index], self.produced[index])

    @classmethod
    def concat(cls, parts: list[Scheduled]) -> Scheduled:
        return cls(
            ReadingBatch.concat([p.batch for p in parts]),
            np.concatenate([p.arrival for p in parts]),
            np.concatenate([p.produced for p in parts]),
        )


class TransportLayer:
    """Assigns arrival times to readings, per patient, from the patients' transport streams.

    Parameters
    ----------
    faults
        The fault rates.
    patients
        The cohort.
    seed
        The cohort seed.
    """

    def __init__(self, faults: TransportFaults, patients: list[VirtualPatient], seed: int) -> None:
        self._faults = faults
        self._rngs = [patient_streams(seed, p.index)[TRANSPORT_STREAM] for p in patients]
        self._cadence_ms = np.array([p.cadence_minutes * MINUTE_MS for p in patients])
        self._outages: list[list[tuple[int, int]]] = [[] for _ in patients]
        self._max_late = faults.max_late_minutes

    def _draw_outages(
        self, col: int, rng: np.random.Generator, start_ms: int, end_ms: int
    ) -> list[tuple[int, int]]:
        outages = [o for o in self._outages[col] if o[1] > start_ms]
        days = (end_ms - start_ms) / 86_400_000
        count = rng.poisson(self._faults.outages_per_day * days)
        if count:
            begin = rng.uniform(start_ms, end_ms, count)
            minutes = np.exp(rng.uniform(np.log(OUTAGE_MIN_MINUTES), np.log(self._max_late), count))
            outages.extend(
                (int(b), int(b + m * MINUTE_MS)) for b, m in zip(begin, minutes, strict=True)
            )
        self._outages[col] = outages
        return outages

    def schedule(self, batch: ReadingBatch, start_ms: int, end_ms: int) -> Scheduled:
        """Arrival times of the readings of a chunk measured in ``[start_ms, end_ms)``."""
        f = self._faults
        order = np.argsort(batch.patient, kind="stable")
        batch = batch.take(order)
        arrival = np.empty(len(batch), np.int64)
        extra_rows: list[NDArray[np.int64]] = []
        extra_arrival: list[NDArray[np.int64]] = []
        cols, first = np.unique(batch.patient, return_index=True)
        bounds = np.append(first, len(batch))
        log_late = (np.log(LATE_MIN_MINUTES), np.log(self._max_late))
        for col, lo, hi in zip(
            cols.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True
        ):
            rng = self._rngs[col]
            outages = self._draw_outages(col, rng, start_ms, end_ms)
            r = rng.random((5, hi - lo))
            measured = batch.measured_at[lo:hi]
            upload = measured + UPLOAD_MIN_MS + (r[0] * UPLOAD_SPREAD_MS).astype(np.int64)
            late = r[1] < f.late_rate
            late_ms = np.exp(log_late[0] + r[4] * (log_late[1] - log_late[0])) * MINUTE_MS
            reorder = ~late & (r[2] < f.reorder_rate)
            # Overtaken: arrives after the next reading, which arrives within 30 s of its time.
            overtaken_ms = self._cadence_ms[col] + 31_000 + r[4] * 60_000
            delay = np.where(late, late_ms, np.where(reorder, overtaken_ms, 0.0))
            when = upload + delay.astype(np.int64)
            for begin, end in outages:
                held = (measured >= begin) & (measured < end)
                if held.any():
                    backlog = end + UPLOAD_MIN_MS + 100 * np.cumsum(held)
                    when = np.where(held, np.maximum(when, backlog), when)
            arrival[lo:hi] = when
            dup = r[3] < f.duplicate_rate
            if dup.any():
                rows = np.flatnonzero(dup)
                share = r[3][dup] / max(f.duplicate_rate, 1e-12)
                extra_rows.append(lo + rows)
                extra_arrival.append(
                    when[rows] + 1_000 + (share * DUPLICATE_MAX_DELAY_MS).astype(np.int64)
                )
        rows = np.concatenate([np.arange(len(batch)), *extra_rows]).astype(np.int64)
        produced = arrival[rows]
        arrivals = np.concatenate([arrival, *extra_arrival]).astype(np.int64)
        return Scheduled(batch.take(rows), arrivals, produced)


class ReadingFactory:
    """Builds contract readings from batch rows, with the cohort's identities."""

    def __init__(self, patients: list[VirtualPatient]) -> None:
        self._patient_ids = [p.patient_id for p in patients]
        self._device_ids = [p.device_id for p in patients]
        self._sessions: dict[tuple[int, int], str] = {}

    def session_id(self, col: int, session: int) -> str:
        """Session id of a patient's sensor session: device id and session number."""
        key = (col, session)
        found = self._sessions.get(key)
        if found is None:
            found = f"{self._device_ids[col]}-s{session:04d}"
            self._sessions[key] = found
        return found

    def deliveries(self, scheduled: Scheduled) -> Iterator[Delivery]:
        """Deliveries of ``scheduled``, in its row order."""
        b = scheduled.batch
        pids, dids, statuses, trends = self._patient_ids, self._device_ids, STATUSES, TRENDS
        # One session-id string per distinct (patient, session) in the batch, not per row.
        codes = b.patient * (1 << 20) + b.session
        distinct, which = np.unique(codes, return_inverse=True)
        sessions = [self.session_id(int(c) >> 20, int(c) & ((1 << 20) - 1)) for c in distinct]
        cgm = ReadingSource.CGM
        for col, measured, offset, value, status, trend, session, arrival, produced in zip(
            b.patient.tolist(),
            b.measured_at.tolist(),
            b.utc_offset.tolist(),
            b.glucose.tolist(),
            b.status.tolist(),
            b.trend.tolist(),
            which.tolist(),
            scheduled.arrival.tolist(),
            scheduled.produced.tolist(),
            strict=True,
        ):
            # Positional arguments: this loop builds every reading, keywords cost ~10 %.
            yield Delivery(
                arrival,
                GlucoseReading(
                    pids[col],
                    dids[col],
                    sessions[session],
                    measured,
                    offset,
                    value,
                    statuses[status],
                    trends[trend],
                    cgm,
                    produced,
                ),
            )


def in_arrival_order(
    chunks: Iterable[tuple[ReadingBatch, int, int]],
    transport: TransportLayer,
    factory: ReadingFactory,
) -> Iterator[Delivery]:
    """Deliveries of consecutive chunks ``(batch, start_ms, end_ms)``, in arrival order.

    Ties are broken by patient, then measurement time, so the order is deterministic.
    """
    queue: Scheduled | None = None
    for batch, start_ms, end_ms in chunks:
        scheduled = transport.schedule(batch, start_ms, end_ms)
        queue = scheduled if queue is None else Scheduled.concat([queue, scheduled])
        # Later readings are measured at or after end_ms minus the clock jitter.
        due = queue.arrival < end_ms - 10_000
        if due.any():
            ready = queue.take(np.flatnonzero(due))
            queue = queue.take(np.flatnonzero(~due))
            yield from factory.deliveries(ready.take(_arrival_order(ready)))
    if queue is not None and len(queue):
        yield from factory.deliveries(queue.take(_arrival_order(queue)))


def _arrival_order(scheduled: Scheduled) -> NDArray[np.int64]:
    return np.lexsort((scheduled.batch.measured_at, scheduled.batch.patient, scheduled.arrival))
