"""The alerts consumer against in-memory ports: a state store with DynamoDB's optimistic
concurrency (a concurrent writer can be slipped in before a save) and a topic that can fail.

Exactly-once recording, at-least-once publishing: whatever conflicts and failed publishes a batch
meets, and however often it is redelivered, each alert of an episode is published once."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

from glucosestream.alerts.consumer import AlertConsumer, BatchOutcome, InboundRecord
from glucosestream.alerts.ports import StoredState
from glucosestream.contract.codec import default_codec
from glucosestream.domain.alerts import Alert
from glucosestream.domain.reading import GlucoseReading, sensor_status
from tests.factories import FIVE_MINUTES_MS, START_MS, patient, reading
from tests.support.alert_ports import InMemoryStates, Topic

FALLING = [92, 84, 76, 69, 63, 58, 52, 49]
"""A patient falling to a hypo, 5 minutes apart (the recorded Kinesis event's values): urgent
low soon at 76, low at 58 (15 minutes under 70), urgent low at 52."""
PAGES = ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]
ARRIVAL_DELAY_MS = 9_000


def falling(number: int) -> list[GlucoseReading]:
    return [
        reading(
            patient_id=patient(number),
            device_id=f"dexcom-g7-{number:04d}",
            measured_at=START_MS + index * FIVE_MINUTES_MS,
            produced_at=START_MS + index * FIVE_MINUTES_MS + 4_000,
            glucose_mg_dl=value,
            status=sensor_status(value),
        )
        for index, value in enumerate(FALLING)
    ]


def records(readings: list[GlucoseReading], first_sequence: int = 0) -> list[InboundRecord]:
    codec = default_codec()
    return [
        InboundRecord(
            sequence_number=str(first_sequence + index),
            partition_key=r.patient_id,
            data=codec.encode(r.to_record()),
            arrived_at_ms=r.measured_at + ARRIVAL_DELAY_MS,
        )
        for index, r in enumerate(readings)
    ]


def consumer(store: InMemoryStates, topic: Topic, **options: Any) -> AlertConsumer:
    # The clock reads just after the last reading arrived: every reading is timely.
    last_arrival_s = (START_MS + (len(FALLING) - 1) * FIVE_MINUTES_MS + ARRIVAL_DELAY_MS) / 1000
    return AlertConsumer(store, topic, clock=lambda: last_arrival_s + 1, **options)


def kinds(alerts: Sequence[Alert]) -> list[str]:
    return [alert.kind.value for alert in alerts]


def outbox_kinds(store: InMemoryStates, patient_id: str) -> list[str]:
    return [entry["kind"] for entry in store.load(patient_id).outbox]


def assert_each_page_once(sent: Sequence[Alert]) -> None:
    per_episode = Counter((a.patient_id, a.kind, a.episode_start) for a in sent)
    assert per_episode, "nothing was published"
    assert set(per_episode.values()) == {1}, per_episode
    assert len({a.alert_id for a in sent}) == len(sent)


def test_in_memory_ports_page_a_falling_patient_once_per_kind() -> None:
    store, topic = InMemoryStates(), Topic()
    outcome = consumer(store, topic).process(records(falling(1)))
    assert outcome.first_failed is None
    assert (outcome.readings, outcome.duplicates, outcome.conflicts) == (8, 0, 0)
    assert kinds(outcome.alerts) == PAGES
    assert kinds(topic.sent) == PAGES
    assert [a.glucose_mg_dl for a in topic.sent] == [76, 58, 52]
    assert outcome.published == 3
    assert outcome.state_writes == 2  # the batch's state with its outbox, then the outbox cleared
    assert store.load(patient(1)).version == 2
    assert outbox_kinds(store, patient(1)) == []


def test_a_concurrent_write_is_retried_on_the_state_it_left() -> None:
    """Another consumer (an overlapping retry of the shard) applies the first half of the batch
    between this consumer's load and its save: the save is refused, the consumer reloads, finds
    those readings already applied and pages only what is left."""
    store, topic = InMemoryStates(), Topic()
    batch = records(falling(1))
    other = consumer(store, topic)

    def other_consumer_first(_: StoredState) -> None:
        store.before_save = None
        first_half = other.process(batch[:4])  # 92, 84, 76, 69: urgent low soon at 76
        assert kinds(first_half.alerts) == ["URGENT_LOW_SOON"]

    store.before_save = other_consumer_first
    outcome = consumer(store, topic).process(batch)

    assert outcome.first_failed is None
    assert outcome.conflicts == 1
    assert store.refused == 1
    assert outcome.duplicates > 0  # the other consumer's readings, seen on the reloaded state
    assert kinds(outcome.alerts) == ["LOW", "URGENT_LOW"]
    assert outcome.state_writes == 2
    assert kinds(topic.sent) == PAGES
    assert_each_page_once(topic.sent)
    assert store.load(patient(1)).version == 4  # two writes each
    assert outbox_kinds(store, patient(1)) == []


def test_a_topic_that_keeps_failing_leaves_the_alerts_in_the_outbox_until_redelivery() -> None:
    """Two patients in the batch; the topic fails every alert of the second. The first's pages go
    out; the batch fails from the second patient's first record, its alerts recorded in its
    outbox; the redelivery from there publishes each of them once and raises nothing new."""
    store = InMemoryStates()
    first, second = patient(1), patient(2)
    batch = records(falling(1) + falling(2))
    down = Topic(fail_patients={second})
    outcome = consumer(store, down).process(batch)

    assert outcome.first_failed == len(FALLING)  # the second patient's first record
    assert outcome.reason == "RuntimeError"
    assert not outcome.poison
    assert kinds(down.sent) == PAGES
    assert {a.patient_id for a in down.sent} == {first}
    assert outbox_kinds(store, first) == []
    assert outbox_kinds(store, second) == PAGES
    assert down.calls == 3 + 1  # the second patient's outbox stops at its first failure

    up = Topic()
    again = consumer(store, up).process(batch[outcome.first_failed :])
    assert again.first_failed is None
    assert again.alerts == []  # recorded the first time: not raised again
    assert again.readings == len(FALLING)
    assert kinds(up.sent) == PAGES
    assert {a.patient_id for a in up.sent} == {second}
    assert outbox_kinds(store, second) == []
    assert_each_page_once(down.sent + up.sent)


def test_a_publish_failing_once_then_working_publishes_each_alert_once() -> None:
    store = InMemoryStates()
    batch = records(falling(1))
    topic = Topic(fail_calls={2})  # the second publish of the topic's life fails
    outcome = consumer(store, topic).process(batch)

    assert outcome.first_failed == 0
    assert outcome.published == 1
    assert kinds(topic.sent) == ["URGENT_LOW_SOON"]
    assert outbox_kinds(store, patient(1)) == ["LOW", "URGENT_LOW"]  # the sent one cleared

    redelivered = consumer(store, topic).process(batch)
    assert redelivered.first_failed is None
    assert redelivered.alerts == []
    assert redelivered.published == 2
    assert kinds(topic.sent) == PAGES
    assert outbox_kinds(store, patient(1)) == []

    writes = store.writes
    third = consumer(store, topic).process(batch)
    assert (third.published, third.state_writes, store.writes) == (0, 0, writes)
    assert_each_page_once(topic.sent)


def test_a_writer_that_always_wins_exhausts_max_conflicts_and_fails_the_patient() -> None:
    store, topic = InMemoryStates(), Topic()
    batch = records(falling(1))

    def another_write(stored: StoredState) -> None:
        current = store.load(stored.patient_id)
        store.save(current, 0)  # the same state, one version on: this save's version is stale

    store.before_save = another_write
    outcome = consumer(store, topic, max_conflicts=3).process(batch)

    assert outcome.first_failed == 0
    assert outcome.reason == "StateConflict"
    assert outcome.conflicts == 3
    assert store.refused == 3
    assert (outcome.state_writes, outcome.alerts, topic.sent) == (0, [], [])
    assert store.load(patient(1)).state is None  # only the other writer's empty writes
    assert store.load(patient(1)).version == 3

    store.before_save = None
    retried = consumer(store, topic, max_conflicts=3).process(batch)
    assert retried.first_failed is None
    assert kinds(topic.sent) == PAGES
    assert_each_page_once(topic.sent)


def test_outcomes_fold_the_earliest_failure_whatever_the_order() -> None:
    def part(index: int, reason: str, conflicts: int) -> BatchOutcome:
        outcome = BatchOutcome(conflicts=conflicts)
        outcome.fail_from(index, reason)
        return outcome

    for parts in (
        [part(9, "RuntimeError", 1), part(2, "StateConflict", 2)],
        [part(2, "StateConflict", 2), part(9, "RuntimeError", 1)],
    ):
        folded = BatchOutcome()
        for one in parts:
            folded.add(one)
        assert (folded.first_failed, folded.reason, folded.conflicts) == (2, "StateConflict", 3)


def steady(number: int) -> list[GlucoseReading]:
    return [
        dataclasses.replace(r, glucose_mg_dl=120, status=sensor_status(120))
        for r in falling(number)
    ]


def test_the_patients_who_page_are_written_and_published_before_the_quiet_ones() -> None:
    """Two quiet patients, then one falling, in batch order, on one worker thread: the falling
    patient's state is written and its pages published first; the quiet patients are written
    next; the published alerts leave the outbox last."""
    events: list[tuple[str, str, int]] = []
    store = InMemoryStates()
    store.before_save = lambda stored: events.append(
        ("save", stored.patient_id, len(stored.outbox))
    )

    class RecordingTopic(Topic):
        def publish(self, alert: Alert) -> str:
            events.append(("publish", alert.patient_id, 0))
            return super().publish(alert)

    topic = RecordingTopic()
    batch = records(steady(1) + steady(2) + falling(3))
    outcome = consumer(store, topic, concurrency=1).process(batch)

    assert outcome.first_failed is None
    assert events == [
        ("save", patient(3), 3),
        ("publish", patient(3), 0),
        ("publish", patient(3), 0),
        ("publish", patient(3), 0),
        ("save", patient(1), 0),
        ("save", patient(2), 0),
        ("save", patient(3), 0),  # the outbox cleared
    ]
    assert kinds(topic.sent) == PAGES
    assert outcome.state_writes == 4


def test_a_patient_whose_evaluation_fails_redelivers_from_its_first_record_only() -> None:
    """A stored state the engine cannot read fails that patient alone, before any write; the
    others are recorded and paged, and the batch is redelivered from the failed patient's first
    record."""
    store, topic = InMemoryStates(), Topic()
    store.rows[patient(2)] = StoredState(patient(2), version=1, state={"not": "a state"})
    batch = records(falling(1) + steady(2) + falling(3))
    outcome = consumer(store, topic).process(batch)

    assert outcome.first_failed == len(FALLING)  # patient 2's first record
    assert {a.patient_id for a in topic.sent} == {patient(1), patient(3)}
    assert store.load(patient(2)).version == 1  # untouched
    assert outbox_kinds(store, patient(1)) == outbox_kinds(store, patient(3)) == []
