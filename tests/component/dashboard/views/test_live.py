"""The live view: new points streamed with a rollover, and the alerts feed, where the selected
alert is acknowledged through the alerts use case (over an in-memory patient-state store)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bokeh.document import Document
from bokeh.events import ButtonClick
from bokeh.models.widgets.buttons import Button

from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.alerts.ports import StateConflict, StoredState
from glucosestream.contract.codec import default_codec
from glucosestream.dashboard import app
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.runner import InlineRunner
from glucosestream.dashboard.views.live import (
    ACKNOWLEDGED,
    LIVE_ROLLOVER,
    NOT_AVAILABLE,
    SILENCED,
    Acknowledger,
    LiveView,
)
from glucosestream.domain.alerts import Alert, PatientAlertState
from glucosestream.domain.alerts.acknowledgement import AcknowledgeResult
from glucosestream.domain.reading import GlucoseReading, sensor_status
from glucosestream.settings import load_settings
from tests.component.dashboard.documents import build, fresh_ledger
from tests.factories import FIVE_MINUTES_MS, START_MS, patient, reading
from tests.support.alert_ports import InMemoryStates, Topic


def test_live_view_streams_new_points_with_rollover(queries: LakeQueries) -> None:
    doc = Document()
    feed = LiveFeed(load_settings(env="test"))
    view = LiveView(feed, InlineRunner(), patient(1))
    doc.add_root(view.layout)
    feed.add_readings(
        [
            reading(measured_at=START_MS + i * FIVE_MINUTES_MS, glucose_mg_dl=100 + i)
            for i in range(3)
        ]
    )
    view.tick()
    assert view.source.data["glucose"] == [100, 101, 102]
    feed.add_readings([reading(measured_at=START_MS + 3 * FIVE_MINUTES_MS, glucose_mg_dl=90)])
    feed.add_readings([reading(patient_id=patient(2), glucose_mg_dl=200)])
    view.tick()
    assert view.source.data["glucose"] == [100, 101, 102, 90]
    assert sorted(view.patient_select.options) == sorted([patient(1), patient(2)])
    feed.add_readings(
        [reading(measured_at=START_MS + (10 + i) * FIVE_MINUTES_MS) for i in range(LIVE_ROLLOVER)]
    )
    view.tick()
    assert len(view.source.data["glucose"]) == LIVE_ROLLOVER
    feed.add_alert(
        json.dumps(
            {
                "patient_id": patient(1),
                "kind": "URGENT_LOW",
                "severity": "CRITICAL",
                "glucose_mg_dl": 50,
                "measured_at": START_MS,
                "utc_offset_minutes": 60,
                "alert_id": "0" * 32,
                "episode_start": START_MS,
                "rate_mg_dl_per_min": None,
                "projected_mg_dl": None,
                "raised_at": START_MS + 2_000,
            }
        )
    )
    view.tick()
    assert view.alerts.data["kind"] == ["URGENT_LOW"]


# --- acknowledging from the alerts table ------------------------------------------------------

ACKNOWLEDGE_CLOCK_S = START_MS / 1000 + 3_600


def readings(number: int, values: list[int], first_index: int = 0) -> list[GlucoseReading]:
    return [
        reading(
            patient_id=patient(number),
            device_id=f"dexcom-g7-{number:04d}",
            measured_at=START_MS + (first_index + i) * FIVE_MINUTES_MS,
            produced_at=START_MS + (first_index + i) * FIVE_MINUTES_MS + 4_000,
            glucose_mg_dl=value,
            status=sensor_status(value),
        )
        for i, value in enumerate(values)
    ]


def consume(store: InMemoryStates, topic: Topic, batch: list[GlucoseReading]) -> list[Alert]:
    """The alerts consumer over the in-memory ports: what it publishes, it also records."""
    codec = default_codec()
    records = [
        InboundRecord(str(r.measured_at), r.patient_id, codec.encode(r.to_record()), r.measured_at)
        for r in batch
    ]
    now_s = (batch[-1].measured_at + 1_000) / 1000
    outcome = AlertConsumer(store, topic, clock=lambda: now_s).process(records)
    assert outcome.first_failed is None, outcome.reason
    return list(outcome.alerts)


@dataclass
class AlertsPage:
    """A live page whose feed holds alerts the consumer raised and recorded in ``store``."""

    view: LiveView
    store: InMemoryStates
    topic: Topic
    raised: list[Alert]


def alerts_page(acknowledge: Acknowledger | None = None, *, controls: bool = True) -> AlertsPage:
    store, topic = InMemoryStates(), Topic()
    # Patient 2 asked for quiet hours all day: its LOW is silenced, its URGENT_LOW is not.
    PatientAlertControls(store).update_settings(patient(2), {"quiet_hours": "00:00-23:59"})
    raised = consume(store, topic, readings(1, [50] * 7)) + consume(
        store, topic, readings(2, [68, 66, 65, 64, 50])
    )
    if controls and acknowledge is None:
        acknowledge = PatientAlertControls(store, clock=lambda: ACKNOWLEDGE_CLOCK_S).acknowledge
    feed = LiveFeed(load_settings(env="test"))
    for alert in raised:
        feed.add_alert(json.dumps(alert.to_record()))
    view = LiveView(feed, InlineRunner(), patient(1), acknowledge=acknowledge)
    Document().add_root(view.layout)
    view.tick()
    return AlertsPage(view, store, topic, raised)


def click(button: Button) -> None:
    """What BokehJS sends when the button is clicked."""
    button._trigger_event(ButtonClick(button))


def select(view: LiveView, alert: Alert) -> int:
    index = list(view.alerts.data["alert_id"]).index(alert.alert_id)
    view.alerts.selected.indices = [index]
    return index


def statuses(view: LiveView) -> dict[str, str]:
    return dict(zip(view.alerts.data["alert_id"], view.alerts.data["status"], strict=True))


def test_the_alerts_table_says_which_alerts_repeat_and_which_were_silenced() -> None:
    page = alerts_page()
    rows = page.view.alerts.data
    assert rows["alert_id"] == [a.alert_id for a in page.raised]
    assert rows["kind"] == [a.kind.value for a in page.raised]
    assert rows["repeat"] == [f"#{a.repeat}" if a.repeat else "" for a in page.raised]
    assert rows["status"] == [SILENCED if a.silenced else "" for a in page.raised]
    # The scenario has both: an URGENT_LOW repeat and a LOW raised in quiet hours.
    assert "#1" in rows["repeat"]
    assert [k for k, s in zip(rows["kind"], rows["status"], strict=True) if s] == ["LOW"]
    assert not page.view.acknowledge_button.disabled


def test_acknowledging_the_selected_alert_records_it_and_stops_the_repeats() -> None:
    page = alerts_page()
    view = page.view
    repeat = next(a for a in page.raised if a.repeat == 1)
    before = statuses(view)
    index = select(view, repeat)
    click(view.acknowledge_button)
    assert "acknowledged by dashboard" in view.acknowledge_status.text
    assert repeat.alert_id in view.acknowledge_status.text
    assert view.alerts.data["status"][index] == ACKNOWLEDGED
    assert statuses(view) == before | {repeat.alert_id: ACKNOWLEDGED}  # that row only
    assert not view.acknowledge_button.disabled  # ready for the next one
    state = PatientAlertState.from_dict(page.store.load(patient(1)).state or {})
    assert [(a.alert_id, a.by) for a in state.acknowledged] == [(repeat.alert_id, "dashboard")]
    # The episode goes on below 55 mg/dL for another hour: acknowledged, it pages no more.
    assert consume(page.store, page.topic, readings(1, [50] * 12, first_index=7)) == []

    click(view.acknowledge_button)  # a second click on the same row
    assert "already acknowledged by dashboard" in view.acknowledge_status.text
    assert statuses(view)[repeat.alert_id] == ACKNOWLEDGED


def test_an_alert_the_patients_state_no_longer_holds_is_refused_with_a_reason() -> None:
    page = alerts_page()
    view = page.view
    # Another stack's alert (or one forgotten after ~24 h): the store never recorded it.
    elsewhere = consume(InMemoryStates(), Topic(), readings(3, [50] * 3))[0]
    view.live.add_alert(json.dumps(elsewhere.to_record()))
    view.tick()
    select(view, elsewhere)
    click(view.acknowledge_button)
    assert "unknown alert (older than ~24 h?)" in view.acknowledge_status.text
    assert statuses(view)[elsewhere.alert_id] == ""
    assert page.store.load(patient(3)).state is None
    assert not view.acknowledge_button.disabled


def test_a_patient_state_that_stays_busy_asks_for_a_retry() -> None:
    page = alerts_page()
    view = page.view
    store = page.store

    def consumer_writes_first(stored: StoredState) -> None:
        # The consumer saves this patient's state before every save of the acknowledgement.
        store.save(store.load(stored.patient_id), int(ACKNOWLEDGE_CLOCK_S))

    store.before_save = consumer_writes_first
    urgent_low = next(a for a in page.raised if a.kind.value == "URGENT_LOW")
    select(view, urgent_low)
    click(view.acknowledge_button)
    assert "state busy, retry" in view.acknowledge_status.text
    assert statuses(view)[urgent_low.alert_id] == ""
    assert store.refused == 5
    store.before_save = None
    click(view.acknowledge_button)  # the retry
    assert "acknowledged by dashboard" in view.acknowledge_status.text
    assert statuses(view)[urgent_low.alert_id] == ACKNOWLEDGED


def test_a_click_with_no_single_row_selected_acknowledges_nothing() -> None:
    calls: list[tuple[str, str, str]] = []

    def acknowledge(patient_id: str, alert_id: str, by: str) -> AcknowledgeResult:
        calls.append((patient_id, alert_id, by))
        raise AssertionError("nothing was selected")

    page = alerts_page(acknowledge)
    view = page.view
    click(view.acknowledge_button)
    assert "Select one alert" in view.acknowledge_status.text
    view.alerts.selected.indices = [0, 1]
    click(view.acknowledge_button)
    assert "Select one alert" in view.acknowledge_status.text
    assert calls == []


def test_without_an_acknowledger_the_button_is_disabled_and_says_why() -> None:
    page = alerts_page(controls=False)
    view = page.view
    assert view.acknowledge_button.disabled
    assert view.acknowledge_status.text == NOT_AVAILABLE
    select(view, page.raised[0])
    click(view.acknowledge_button)  # what a tampered client could send
    assert view.acknowledge_status.text == NOT_AVAILABLE
    assert ACKNOWLEDGED not in view.alerts.data["status"]


def test_the_app_gives_the_live_view_the_acknowledger_it_was_given(queries: LakeQueries) -> None:
    page = alerts_page()

    def acknowledge(patient_id: str, alert_id: str, by: str) -> AcknowledgeResult:
        raise StateConflict("busy")

    doc = Document()
    built = app.build(
        doc,
        queries,
        page.view.live,
        InlineRunner(),
        {"view": [b"live"]},
        ledger=fresh_ledger(),
        acknowledge=acknowledge,
    )
    assert isinstance(built, LiveView)
    built.tick()
    built.alerts.selected.indices = [0]
    click(built.acknowledge_button)
    assert "state busy, retry" in built.acknowledge_status.text
    _, without = build(queries, view="live")
    assert isinstance(without, LiveView)
    assert without.acknowledge_button.disabled
