"""Publishing simulated deliveries: all of them, in windows when paced."""

from __future__ import annotations

import pytest

from glucosestream.adapters.producer import PublishError, PublishReport
from glucosestream.domain.reading import GlucoseReading
from stream.publishing import publish_deliveries, windows
from stream.simulator import CohortConfig, simulate
from tests.support.clock import FakeClock

DELIVERIES = list(simulate(CohortConfig(patients=4, days=0.25, seed=5)))


class RecordingProducer:
    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[list[GlucoseReading]] = []
        self.fail_after = fail_after

    def publish(self, readings) -> PublishReport:  # type: ignore[no-untyped-def]
        batch = list(readings)
        if self.fail_after is not None and len(self.calls) == self.fail_after:
            raise PublishError("gave up", PublishReport(sent=3), batch[3:])
        self.calls.append(batch)
        return PublishReport(sent=len(batch), kinesis_records=len(batch), put_calls=1)


def test_as_fast_as_possible_publishes_everything_in_one_stream() -> None:
    producer = RecordingProducer()
    progress: list[int] = []
    report = publish_deliveries(iter(DELIVERIES), producer, None, progress.append)  # type: ignore[arg-type]
    assert report.sent == len(DELIVERIES)
    assert [r.event_id for r in producer.calls[0]] == [d.reading.event_id for d in DELIVERIES]
    assert sum(progress) == len(DELIVERIES)


def test_paced_publishing_puts_each_window_when_its_time_comes() -> None:
    producer, clock = RecordingProducer(), FakeClock()
    speed = 600.0  # ten simulated minutes a wall second -> windows of 120 simulated seconds
    report = publish_deliveries(
        iter(DELIVERIES),
        producer,
        speed,
        now=clock,
        sleep=clock.sleep,  # type: ignore[arg-type]
    )
    assert report.sent == len(DELIVERIES)
    assert len(producer.calls) == len(list(windows(iter(DELIVERIES), 120_000)))
    span_s = (DELIVERIES[-1].arrival_at - DELIVERIES[0].arrival_at) / 1000
    assert clock.now == pytest.approx(span_s / speed, abs=0.2)
    assert [r.event_id for call in producer.calls for r in call] == [
        d.reading.event_id for d in DELIVERIES
    ]


def test_windows_group_by_arrival_time() -> None:
    grouped = list(windows(iter(DELIVERIES), 60_000))
    assert sum(len(w.deliveries) for w in grouped) == len(DELIVERIES)
    for window in grouped:
        assert len({d.arrival_at // 60_000 for d in window.deliveries}) == 1


def test_a_failure_reports_the_total_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    producer, clock = RecordingProducer(fail_after=2), FakeClock()
    with pytest.raises(PublishError) as raised:
        publish_deliveries(
            iter(DELIVERIES),
            producer,
            600.0,
            now=clock,
            sleep=clock.sleep,  # type: ignore[arg-type]
        )
    sent_before = sum(len(c) for c in producer.calls)
    assert raised.value.report.sent == sent_before + 3
    assert f"({sent_before + 3} readings sent in all)" in str(raised.value)
