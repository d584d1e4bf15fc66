"""Replay deliveries against the wall clock at a chosen speed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar


class Arrives(Protocol):
    @property
    def arrival_at(self) -> int: ...


A = TypeVar("A", bound=Arrives)


def paced(
    deliveries: Iterable[A],
    speed: float | None,
    *,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[A]:
    """Yield ``deliveries`` no earlier than their arrival times replayed at ``speed``.

    The first delivery is yielded at once and anchors the replay: a delivery arriving ``d``
    simulated seconds after the first is yielded ``d / speed`` wall seconds after it. Falling
    behind (a slow consumer) is not made up by skipping: later deliveries follow as fast as
    possible until the schedule is met again.

    Parameters
    ----------
    deliveries
        Deliveries (or anything with an ``arrival_at`` in UTC ms) in arrival order.
    speed
        Simulated seconds per wall second (1.0 is real time, 60.0 an hour a minute); ``None``
        replays as fast as possible.
    now, sleep
        Monotonic clock in seconds and sleep function, injectable for tests.

    Raises
    ------
    ValueError
        If ``speed`` is not a positive finite number or ``None``.
    """
    if speed is not None and not (0.0 < speed < float("inf")):
        raise ValueError(f"speed must be a positive number or None, got {speed!r}")
    if speed is None:
        yield from deliveries
        return
    wall_start: float | None = None
    first_arrival = 0
    for delivery in deliveries:
        if wall_start is None:
            wall_start, first_arrival = now(), delivery.arrival_at
        else:
            due = wall_start + (delivery.arrival_at - first_arrival) / 1000.0 / speed
            wait = due - now()
            if wait > 0:
                sleep(wait)
        yield delivery
