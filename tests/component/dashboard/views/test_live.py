"""The live view: new points streamed with a rollover, and the alerts feed."""

from __future__ import annotations

import json

from bokeh.document import Document

from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.views.live import LIVE_ROLLOVER, LiveView
from glucosestream.settings import load_settings
from tests.factories import FIVE_MINUTES_MS, START_MS, patient, reading


def test_live_view_streams_new_points_with_rollover(queries: LakeQueries) -> None:
    doc = Document()
    feed = LiveFeed(load_settings(env="test"))
    view = LiveView(feed, patient(1))
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
            }
        )
    )
    view.tick()
    assert view.alerts.data["kind"] == ["URGENT_LOW"]
