"""The live feed degrades to a clear message when the local stack is not running, and reads the
alerts of the contract (and older records of it) off the feed queue."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from glucosestream.dashboard.live import LiveFeed, StreamTail
from glucosestream.domain.alerts import Alert, AlertKind, Severity
from glucosestream.domain.identity import alert_id
from glucosestream.settings import load_settings
from tests.factories import START_MS, patient
from tests.integration.conftest import free_port
from tests.support.shards import FakeShards


def test_feed_without_a_stack_says_so_and_stops_cleanly(tmp_path: Path) -> None:
    settings = load_settings(
        state_dir=tmp_path, env="test", kinesis_port=free_port(), moto_port=free_port()
    )
    feed = LiveFeed(settings, retry_s=0.1)
    feed.start()
    try:
        deadline = time.monotonic() + 10
        while "unavailable" not in feed.status and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        feed.stop()
    assert feed.status.startswith("Live data unavailable: the local stack is not reachable")
    assert "glucosestream local up" in feed.status
    assert not feed.connected
    assert feed.readings_since("anyone", 0) == ([], 0)


# --- alerts from the feed queue ---------------------------------------------------------------

HOUR_MS = 3_600_000


def urgent_low_repeat(number: int) -> Alert:
    """The alerts engine's ``number``-th repeat of an unacknowledged URGENT_LOW, as published."""
    episode_start = START_MS + 2 * HOUR_MS
    return Alert(
        alert_id=alert_id(patient(1), "URGENT_LOW", episode_start, number),
        patient_id=patient(1),
        kind=AlertKind.URGENT_LOW,
        severity=Severity.CRITICAL,
        measured_at=episode_start + number * 30 * 60_000,
        utc_offset_minutes=60,
        glucose_mg_dl=48,
        episode_start=episode_start,
        rate_mg_dl_per_min=-0.4,
        projected_mg_dl=None,
        raised_at=episode_start + number * 30 * 60_000 + 9_000,
        repeat=number,
    )


def quiet_hours_low() -> Alert:
    episode_start = START_MS + HOUR_MS
    return Alert(
        alert_id=alert_id(patient(2), "LOW", episode_start),
        patient_id=patient(2),
        kind=AlertKind.LOW,
        severity=Severity.WARNING,
        measured_at=episode_start + 15 * 60_000,
        utc_offset_minutes=-300,
        glucose_mg_dl=64,
        episode_start=episode_start,
        rate_mg_dl_per_min=None,
        projected_mg_dl=None,
        raised_at=episode_start + 15 * 60_000 + 9_000,
        silenced=True,
    )


def test_alerts_carry_their_id_repeat_and_quiet_hours_flag() -> None:
    feed = LiveFeed(load_settings(env="test"))
    repeat, silenced = urgent_low_repeat(2), quiet_hours_low()
    feed.add_alert(json.dumps(repeat.to_record()))
    # With raw message delivery off, SNS wraps the alert in its envelope.
    feed.add_alert(
        json.dumps({"Type": "Notification", "Message": json.dumps(silenced.to_record())})
    )
    alerts, cursor = feed.alerts_since(0)
    assert cursor == 2
    assert [(a.alert_id, a.kind, a.repeat, a.silenced) for a in alerts] == [
        (repeat.alert_id, "URGENT_LOW", 2, False),
        (silenced.alert_id, "LOW", 0, True),
    ]
    assert [a.local_ms for a in alerts] == [
        repeat.measured_at + 60 * 60_000,
        silenced.measured_at - 300 * 60_000,
    ]


def test_alerts_from_before_repeat_and_silenced_get_the_schemas_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = LiveFeed(load_settings(env="test"))
    older = {
        k: v for k, v in urgent_low_repeat(1).to_record().items() if k not in {"repeat", "silenced"}
    }
    newer = {**urgent_low_repeat(2).to_record(), "added_in_v2": "a reader ignores it"}
    without_id = {k: v for k, v in older.items() if k != "alert_id"}
    feed.add_alert(json.dumps(older))
    feed.add_alert(json.dumps(newer))
    feed.add_alert(json.dumps(without_id))  # not of the contract: no id to acknowledge
    (first, second), _ = feed.alerts_since(0)
    assert (first.alert_id, first.repeat, first.silenced) == (older["alert_id"], 0, False)
    assert (second.alert_id, second.repeat) == (newer["alert_id"], 2)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "(no alert_id)" in warnings[0]


def test_what_is_not_an_alert_is_dropped_without_taking_a_place_in_the_feed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = LiveFeed(load_settings(env="test"))
    for body in ("not json", "[1, 2]", json.dumps({"kind": "LOW"}), json.dumps({"repeat": "x"})):
        feed.add_alert(body)
    broken = urgent_low_repeat(1).to_record() | {"repeat": "second"}
    feed.add_alert(json.dumps(broken))
    assert feed.alerts_since(0) == ([], 0)
    # Each said, not dropped in silence.
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 5
    assert all(w.startswith("alerts feed: a message that is not an alert") for w in warnings)
    assert "'not json'" in warnings[0]
    feed.add_alert(json.dumps(urgent_low_repeat(1).to_record()))
    alerts, cursor = feed.alerts_since(0)
    assert [a.sequence for a in alerts] == [cursor] == [1]


def test_the_stream_tail_follows_a_reshard_in_order() -> None:
    # Given a tail that started at the tip of a one-shard stream
    stream = FakeShards(1)
    stream.put_many(3, 0)  # before the tail: not shown
    tail = StreamTail(stream)
    first = [r.sequence_number for r in stream.put_many(2, 0)]
    assert [r.sequence_number for r in tail.read()] == first
    # When more arrive, the shard is split and its two children receive newer records
    last = [r.sequence_number for r in stream.put_many(2, 0)]
    left, right = stream.split(0)
    newer = [r.sequence_number for r in stream.put_many(2, left) + stream.put_many(3, right)]
    # Then the parent's last records come first, then every record of the children, once
    assert [r.sequence_number for r in tail.read()] == last
    assert tail.open_shards == 2
    assert sorted(r.sequence_number for r in tail.read()) == sorted(newer)
    assert tail.read() == []
