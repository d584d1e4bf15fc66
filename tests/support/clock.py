"""A fake clock for code that takes ``clock`` and ``sleep`` callables."""

from __future__ import annotations

import threading


class FakeClock:
    """Seconds (from 0, or from ``now``) that move only when something sleeps or a test moves
    ``now``.

    Call it for the time; pass ``clock.sleep`` as the sleep: each sleep is recorded in
    ``sleeps`` and advances the time at once. Safe to share between threads (a map's
    iterations sleep concurrently).
    """

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
