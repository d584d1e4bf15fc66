"""Publish simulated deliveries to Kinesis: as fast as possible, or paced at a speed factor.

Paced publishing groups deliveries into windows of about 0.2 wall seconds and puts each window
at once, so a live demo neither waits for a batch of 500 to fill nor makes one call per reading.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from glucosestream.adapters.producer import Producer, PublishError, PublishReport
from glucosestream.domain.reading import GlucoseReading
from stream.simulator import Delivery, paced

WINDOW_WALL_S = 0.2


@dataclass(frozen=True, slots=True)
class DeliveryWindow:
    arrival_at: int
    deliveries: list[Delivery]


def windows(deliveries: Iterable[Delivery], window_ms: int) -> Iterator[DeliveryWindow]:
    for _, group in groupby(deliveries, key=lambda d: d.arrival_at // window_ms):
        items = list(group)
        yield DeliveryWindow(items[0].arrival_at, items)


def publish_deliveries(
    deliveries: Iterable[Delivery],
    producer: Producer,
    speed: float | None,
    on_progress: Callable[[int], None] = lambda count: None,
    *,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishReport:
    """Publish every delivery's reading; ``speed`` None means as fast as possible.

    ``on_progress`` hears how many more readings were handed to the producer, now and then.
    Raises PublishError (from the producer) with the total sent so far in its message.
    """
    total = PublishReport()
    if speed is None:
        chunks: Iterable[Iterable[Delivery]] = [deliveries]
    else:
        window_ms = max(1, round(WINDOW_WALL_S * 1000 * speed))
        chunks = (
            window.deliveries
            for window in paced(windows(deliveries, window_ms), speed, now=now, sleep=sleep)
        )
    try:
        for chunk in chunks:
            _add(total, producer.publish(_readings(chunk, on_progress)))
    except PublishError as error:
        _add(total, error.report)
        raise PublishError(
            f"{error} ({total.sent} readings sent in all)", total, error.unsent
        ) from error
    return total


def _readings(
    deliveries: Iterable[Delivery], on_progress: Callable[[int], None], every: int = 1000
) -> Iterator[GlucoseReading]:
    pending = 0
    for delivery in deliveries:
        yield delivery.reading
        pending += 1
        if pending == every:
            on_progress(pending)
            pending = 0
    if pending:
        on_progress(pending)


def _add(total: PublishReport, part: PublishReport) -> None:
    total.sent += part.sent
    total.kinesis_records += part.kinesis_records
    total.put_calls += part.put_calls
    total.retried_entries += part.retried_entries
    for code, count in part.error_codes.items():
        total.error_codes[code] = total.error_codes.get(code, 0) + count
