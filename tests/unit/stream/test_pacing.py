"""Pacing deliveries against a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glucosestream.domain.reading import GlucoseReading, ReadingSource, ReadingStatus, Trend
from stream.simulator import Delivery, paced
from tests.support.clock import FakeClock


def _delivery(arrival_ms: int) -> Delivery:
    reading = GlucoseReading(
        patient_id="p_1",
        device_id="d",
        session_id="s",
        measured_at=arrival_ms,
        utc_offset_minutes=0,
        glucose_mg_dl=100,
        status=ReadingStatus.OK,
        trend=Trend.FLAT,
        source=ReadingSource.CGM,
        produced_at=arrival_ms,
    )
    return Delivery(arrival_ms, reading)


def test_replays_arrival_gaps_scaled_by_speed() -> None:
    clock = FakeClock(100.0)
    deliveries = [_delivery(ms) for ms in (0, 60_000, 60_000, 180_000)]
    yielded_at = [clock() for _ in paced(deliveries, 60.0, now=clock, sleep=clock.sleep)]
    assert [t - 100.0 for t in yielded_at] == pytest.approx([0.0, 1.0, 1.0, 3.0])


def test_none_speed_never_sleeps() -> None:
    clock = FakeClock(100.0)
    deliveries = [_delivery(ms) for ms in (0, 3_600_000)]
    assert list(paced(deliveries, None, now=clock, sleep=clock.sleep)) == deliveries
    assert clock.sleeps == []


def test_slow_consumer_is_not_made_to_wait_more() -> None:
    clock = FakeClock(100.0)
    out = []
    for delivery in paced(
        [_delivery(ms) for ms in (0, 1_000, 2_000)], 1.0, now=clock, sleep=clock.sleep
    ):
        out.append(delivery)
        clock.now += 5.0  # the consumer takes 5 s per delivery, longer than the schedule
    assert len(out) == 3
    assert clock.sleeps == []


@given(st.one_of(st.just(0.0), st.floats(max_value=0.0), st.just(float("inf"))))
def test_rejects_non_positive_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        list(paced([_delivery(0)], speed))


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=20),
    speed=st.floats(min_value=0.5, max_value=1000.0),
)
def test_never_yields_before_schedule(gaps: list[int], speed: float) -> None:
    clock = FakeClock(100.0)
    arrivals = []
    total = 0
    for gap in gaps:
        total += gap
        arrivals.append(total)
    yielded = 0
    for delivery in paced([_delivery(ms) for ms in arrivals], speed, now=clock, sleep=clock.sleep):
        yielded += 1
        due = 100.0 + (delivery.arrival_at - arrivals[0]) / 1000.0 / speed
        assert clock() >= due - 1e-6
    assert yielded == len(arrivals)
