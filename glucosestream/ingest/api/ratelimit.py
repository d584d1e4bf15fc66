"""Token-bucket rate limiting per caller (tenant key or Nightscout site).

Each caller holds up to ``burst`` tokens, refilled at ``rate_per_s``; a request takes one. An
empty bucket answers how long until the next token, which becomes the 429's ``Retry-After``.
In AWS, API Gateway usage plans throttle per API key before the Lambda runs; this limiter is the
same rule inside one process (the local server, one Lambda instance).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_TRACKED_CALLERS = 10_000
"""Buckets kept; the least recently seen caller is forgotten first (a full bucket again)."""


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = MAX_TRACKED_CALLERS,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, caller: str) -> float:
        """Take a token: 0.0 when allowed, else the seconds to wait before retrying."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate_per_s)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate_per_s
            self._buckets[caller] = (tokens, now)
            while len(self._buckets) > self._max_callers:
                self._buckets.popitem(last=False)
            return wait


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, at least 1 (``Retry-After`` takes no fractions)."""
    return str(max(1, math.ceil(wait_s)))
