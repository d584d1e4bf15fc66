"""Rate limiting (token bucket) and the bounded recent-entries store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from glucosestream.ingest.api.ratelimit import RateLimiter, retry_after_header
from glucosestream.ingest.api.recent import RecentReadings
from tests.factories import trace


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


def test_recent_keeps_the_newest_per_patient_newest_first_one_per_identity() -> None:
    store = RecentReadings(per_patient=5)
    readings = trace(1, 8)
    store.add(readings[4:])
    store.add(readings[:4])  # older ones arriving late
    store.add([replace(readings[7], glucose_mg_dl=120)])  # a retry of the same identity
    latest = store.latest(readings[0].patient_id, 10)
    assert [r.measured_at for r in latest] == [r.measured_at for r in reversed(readings[3:])]
    assert latest[0].glucose_mg_dl == 120
    assert store.latest(readings[0].patient_id, 2) == latest[:2]
    assert store.latest("p_unknown", 3) == []


def test_recent_bounds_the_number_of_patients() -> None:
    store = RecentReadings(per_patient=2, max_patients=2)
    for number in (1, 2, 3):
        store.add(trace(number, 1))
    assert store.latest(trace(1, 1)[0].patient_id, 1) == []
    assert len(store.latest(trace(3, 1)[0].patient_id, 1)) == 1
