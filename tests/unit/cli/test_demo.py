"""The demo's live stream continues the backfill's simulated patients: no step at the seam,
nothing published twice, nothing skipped; its alert lines."""

from __future__ import annotations

import json
from collections import Counter
from itertools import takewhile
from types import SimpleNamespace

import pytest

from glucosestream.adapters.sqs_queue import QueueMessage
from glucosestream.cli.demo import (
    DAY_MS,
    DemoOptions,
    DemoState,
    LiveDemo,
    format_alert,
    live_cohort,
)
from glucosestream.domain.alerts import Alert
from stream.simulator import CohortConfig, simulate

KEY = b"k" * 32
START = 1_767_571_200_000  # 2026-01-05T00:00Z
OPTIONS = DemoOptions(patients=4, days=2.0, seed=11)
BACKFILL_END = START + 2 * DAY_MS
LIVE_START = BACKFILL_END + 60_000


def backfill() -> dict[str, tuple[int, int]]:
    config = CohortConfig(
        patients=OPTIONS.patients,
        days=OPTIONS.days,
        seed=OPTIONS.seed,
        start_ms=START,
        pseudonym_key=KEY,
    )
    return {
        d.reading.event_id: (d.reading.measured_at, d.reading.glucose_mg_dl)
        for d in simulate(config)
    }


def live(state: DemoState, hours: float = 2) -> dict[str, tuple[str, int, int]]:
    config, is_new = live_cohort(OPTIONS, state, LIVE_START, KEY)
    until = LIVE_START + round(hours * 3_600_000)
    return {
        d.reading.event_id: (d.reading.patient_id, d.reading.measured_at, d.reading.glucose_mg_dl)
        for d in takewhile(lambda d: d.arrival_at < until, filter(is_new, simulate(config)))
    }


def state(**seam: int | None) -> DemoState:
    return DemoState(OPTIONS.patients, OPTIONS.seed, OPTIONS.days, 0, BACKFILL_END, **seam)


def test_live_continues_each_patients_trace_and_publishes_nothing_twice() -> None:
    before = backfill()
    after = live(state(backfill_start_ms=START, backfill_end_ms=BACKFILL_END))
    assert after
    assert set(before).isdisjoint(after)
    # The seam is the one simulation's own: the live readings are those a single run from the
    # backfill's start gives after the backfill's end.
    whole = CohortConfig(
        patients=OPTIONS.patients, days=3, seed=OPTIONS.seed, start_ms=START, pseudonym_key=KEY
    )
    expected = {
        d.reading.event_id
        for d in simulate(whole)
        if d.reading.measured_at >= BACKFILL_END
        and LIVE_START <= d.arrival_at < LIVE_START + 2 * 3_600_000
    }
    assert set(after) == expected


def test_a_state_file_without_the_seam_starts_a_fresh_simulation() -> None:
    after = live(state())
    first = min(measured for _, measured, _ in after.values())
    assert first >= LIVE_START


def test_printed_alerts_say_repeat_and_quiet_hours() -> None:
    record = {
        "alert_id": "0123456789abcdef0123456789abcdef",
        "patient_id": "p_8b57fd516f31aa00",
        "kind": "URGENT_LOW",
        "severity": "CRITICAL",
        "measured_at": 1_767_571_200_000,  # Mon 2026-01-05 00:00 UTC
        "utc_offset_minutes": 60,
        "glucose_mg_dl": 48,
        "episode_start": 1_767_569_400_000,
        "rate_mg_dl_per_min": None,
        "projected_mg_dl": None,
        "raised_at": 1_767_571_205_000,
        "repeat": 2,
        "silenced": False,
    }
    line = format_alert(Alert.from_record(record))
    assert line.startswith("ALERT URGENT_LOW      CRITICAL p_8b57fd516f31… ")
    assert "48 mg/dL at Mon 01:00 local" in line
    assert line.endswith("repeat #2, unacknowledged id 0123456789abcdef0123456789abcdef")
    assert "silenced" not in line
    quiet_low = {**record, "kind": "LOW", "severity": "WARNING", "repeat": 0, "silenced": True}
    assert format_alert(Alert.from_record(quiet_low)).endswith("[silenced: quiet hours]")


class RecordingFeed:
    """The alerts feed's two calls the console makes, over messages held in memory."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = [QueueMessage(body, f"receipt-{n}") for n, body in enumerate(bodies)]
        self.deleted: list[QueueMessage] = []

    def receive(self, wait_s: int = 0) -> list[QueueMessage]:
        held, self.messages = self.messages[:10], self.messages[10:]
        return held

    def delete_many(self, messages: list[QueueMessage]) -> list[QueueMessage]:
        self.deleted += messages
        return []


def test_a_message_that_is_not_an_alert_is_reported_and_deleted_with_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    alert = {
        "alert_id": "a" * 32, "patient_id": "p_8b57fd516f31aa00", "kind": "LOW",
        "severity": "WARNING", "measured_at": 1_767_571_200_000, "utc_offset_minutes": 0,
        "glucose_mg_dl": 62, "episode_start": 1_767_571_200_000, "rate_mg_dl_per_min": None,
        "projected_mg_dl": None, "raised_at": 1_767_571_201_000,
    }  # fmt: skip
    bodies = [json.dumps(alert), "not json", json.dumps({"kind": "LOW"}), json.dumps(alert)]
    feed = RecordingFeed(bodies)
    console = SimpleNamespace(feed=feed, errors=[], kinds=Counter())

    LiveDemo._show_alerts(console)  # type: ignore[arg-type]

    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2
    assert all(line.startswith("ALERT LOW") for line in printed)
    assert console.kinds == Counter({"LOW": 2})
    assert len(console.errors) == 2
    assert "not JSON (JSONDecodeError)" in console.errors[0]
    assert "'not json'" in console.errors[0]
    assert "no alert_id" in console.errors[1]
    assert feed.deleted == [QueueMessage(body, f"receipt-{n}") for n, body in enumerate(bodies)]
