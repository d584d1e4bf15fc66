"""Alerts are idempotent per episode under duplication, redelivery and reordering."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glucosestream.domain.alerts import (
    Alert,
    AlertConfig,
    AlertKind,
    AlertReading,
    PatientAlertState,
    evaluate,
)
from glucosestream.domain.alerts.replay import replay
from glucosestream.domain.alerts.tracker import TrackerState, step
from tests.unit.domain.alerts.scenario import T0

CONFIG = AlertConfig()
P = "p_prop"
MIN = 60_000


@st.composite
def glucose_walks(draw: st.DrawFn) -> list[AlertReading]:
    """5-minute readings with dips into hypoglycaemia, noise and signal-loss gaps."""
    count = draw(st.integers(min_value=10, max_value=120))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = random.Random(seed)
    value = rng.uniform(60, 180)
    drift = 0.0
    readings = []
    t = T0
    for _ in range(count):
        if rng.random() < 0.08:
            drift = rng.uniform(-4, 3)
        drift *= 0.9
        value = min(400, max(40, value + drift * 5 + rng.gauss(0, 3)))
        t += 5 * MIN + rng.randint(-20_000, 20_000)
        if rng.random() < 0.03:
            t += rng.choice([20, 50, 90]) * MIN  # a signal-loss gap
        readings.append(AlertReading(t, round(value), t + 15_000, "dev"))
    return readings


def key(alert: Alert) -> tuple:
    """An alert without its processing time."""
    return (alert.alert_id, alert.kind, alert.measured_at, alert.episode_start)


def in_order(readings: list[AlertReading]) -> list[Alert]:
    return replay([(P, r) for r in readings], CONFIG)


def episode_spans(readings: list[AlertReading]) -> list[tuple[int, int]]:
    """Low-risk episodes of the complete data: [start, closing reading] (open: last reading)."""
    tracker = TrackerState()
    spans: list[tuple[int, int]] = []
    last = 0
    for reading in sorted(readings, key=lambda r: r.key):
        result = step(tracker, reading, CONFIG)
        spans += [(start, end) for family, start, end in result.closed if family == "low"]
        last = reading.measured_at
    if tracker.episode_start is not None:
        spans.append((tracker.episode_start, last))
    return spans


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glucose_walks(), st.randoms(use_true_random=False))
def test_duplicates_give_exactly_the_same_alerts(readings: list[AlertReading], rnd) -> None:
    duplicated = list(readings)
    for reading in readings:
        if rnd.random() < 0.3:
            delay = rnd.randint(0, CONFIG.staleness_ms - 20_000)
            duplicated.append(replace(reading, arrived_at=reading.arrived_at + delay))
    assert [key(a) for a in in_order(duplicated)] == [key(a) for a in in_order(readings)]


@settings(max_examples=150, deadline=None)
@given(glucose_walks())
def test_replaying_a_whole_stream_twice_pages_nothing_new(readings: list[AlertReading]) -> None:
    state = PatientAlertState()
    first = evaluate(state, P, readings, readings[-1].arrived_at, CONFIG).alerts
    again = evaluate(state, P, readings, readings[-1].arrived_at, CONFIG)
    assert again.alerts == []
    assert again.duplicates + state.ignored_late >= len(readings) - len(state.tail) - 1
    assert [key(a) for a in first] == [key(a) for a in in_order(readings)]


@settings(max_examples=150, deadline=None)
@given(glucose_walks(), st.integers(min_value=1, max_value=12), st.randoms(use_true_random=False))
def test_shuffling_inside_delivery_batches_gives_exactly_the_same_alerts(
    readings: list[AlertReading], batch_size: int, rnd
) -> None:
    state = PatientAlertState()
    alerts: list[Alert] = []
    for start in range(0, len(readings), batch_size):
        batch = readings[start : start + batch_size]
        rnd.shuffle(batch)
        now = max(r.arrived_at for r in batch)
        alerts += evaluate(state, P, batch, now, CONFIG).alerts
    assert sorted(key(a) for a in alerts) == sorted(key(a) for a in in_order(readings))


@settings(max_examples=1000, deadline=None)
@given(glucose_walks(), st.randoms(use_true_random=False))
def test_reordering_within_the_staleness_bound_never_doubles_or_misses_a_page(
    readings: list[AlertReading], rnd
) -> None:
    bound = CONFIG.staleness_ms
    # Delays up to the forecast's freshness limit, or up to the staleness bound: beyond the
    # former a reading is too old to forecast from, so URGENT_LOW_SOON may rightly not come.
    max_delay = rnd.choice([CONFIG.forecast_max_age_ms, bound])
    delayed = [replace(r, arrived_at=r.measured_at + rnd.randint(0, max_delay)) for r in readings]
    shuffled = in_order(delayed)
    expected = in_order(readings)
    spans = episode_spans(readings)

    def span_of(alert: Alert) -> tuple[int, int] | None:
        # The episode its reading falls in, else the one its start falls in (a page raised on
        # incomplete data can sit just past the episode's final end).
        for moment in (alert.measured_at, alert.episode_start):
            for span in spans:
                if span[0] <= moment <= span[1]:
                    return span
        return None

    # Never doubled: at most one page of a kind (and repeat number) per episode of the complete
    # data, and never two of a kind closer than the bound.
    paged = [(a.kind, a.repeat, span_of(a)) for a in shuffled if span_of(a) is not None]
    assert len(paged) == len(set(paged))
    for kind in {a.kind for a in shuffled}:
        times = sorted(a.measured_at for a in shuffled if a.kind is kind)
        assert all(later - earlier >= bound for earlier, later in pairwise(times))
    # Never missed: every first page of the in-order run has a page of its kind in the same
    # episode, or within the bound of it (a rule may fire a reading early on incomplete data).
    for alert in expected:
        if alert.kind is AlertKind.URGENT_LOW_SOON and max_delay > CONFIG.forecast_max_age_ms:
            continue
        if alert.repeat:
            continue  # repeats: below
        assert any(
            a.kind is alert.kind
            and a.repeat == 0
            and (
                (span_of(a) == span_of(alert) is not None)
                or abs(a.measured_at - alert.measured_at) < bound
            )
            for a in shuffled
        ), alert
    # Repeats of an unacknowledged URGENT_LOW follow the last page by >= 30 min of measured
    # time, in order or not. Out of order, a repeat comes at the first reading to ARRIVE that is
    # due (< 55 mg/dL, >= 30 min after the last page), so it can be late by the reordering
    # bound: no later than max_delay after the first due reading of the complete data. (The
    # lateness carries to the next repeats, so a long episode can end with several repeats fewer
    # than in order, never with a due repeat skipped.)
    for span in spans:
        for run in (expected, shuffled):
            times = sorted(
                a.measured_at for a in run if a.kind is AlertKind.URGENT_LOW and span_of(a) == span
            )
            assert all(b - a >= CONFIG.repeat_every_ms for a, b in pairwise(times))
        pages = sorted(
            a.measured_at for a in shuffled if a.kind is AlertKind.URGENT_LOW and span_of(a) == span
        )
        for page, next_page in pairwise(pages):
            due = [
                r.measured_at
                for r in readings
                if page + CONFIG.repeat_every_ms <= r.measured_at <= span[1]
                and r.glucose_mg_dl < CONFIG.repeat_below_mg_dl
            ]
            assert due, (span, page, next_page)
            assert next_page <= min(due) + max_delay, (span, page, next_page)
