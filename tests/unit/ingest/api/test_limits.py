"""Rate limiting (token bucket)."""

from __future__ import annotations

import pytest

from glucosestream.ingest.api.ratelimit import RateLimiter, retry_after_header


def test_bucket_allows_the_burst_then_says_how_long_to_wait() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert limiter.acquire("b") == 0.0  # callers have their own buckets
    now[0] = 0.5
    assert limiter.acquire("a") == 0.0  # one token refilled


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"


def test_limiter_forgets_the_least_recent_caller_beyond_its_bound() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=lambda: 0.0, max_callers=2)
    limiter.acquire("a")
    limiter.acquire("b")
    limiter.acquire("c")  # "a" forgotten: a full bucket again
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("c") > 0
