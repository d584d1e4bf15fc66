"""Each view in real headless Chromium: loads without console errors and does its job."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from glucosestream.adapters.alert_topic import AlertTopic
from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.patient_state import PatientStateStore
from glucosestream.adapters.producer import Producer
from glucosestream.alerts.consumer import AlertConsumer, InboundRecord
from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.contract.codec import default_codec
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.domain.alerts import Alert, PatientAlertState
from glucosestream.domain.reading import sensor_status
from glucosestream.local.dashboard_engine import DuckDbEngine
from tests.browser.conftest import (
    FIND_DEEP,
    Dashboard,
    console_errors,
    deep_texts,
    model_text,
    screenshot,
    wait_for,
)
from tests.factories import FIVE_MINUTES_MS, patient, reading

pytestmark = pytest.mark.integration  # the live view's test streams through the local stack

RENDERED_DAILY_PANELS = """
const found = new Map();
function walk(view) { found.set(view.model.id, view); for (const c of view.children()) walk(c); }
for (const root of Bokeh.index.roots) walk(root);
return [...Bokeh.documents[0].all_models]
  .filter((m) => (m.tags || []).includes('daily-panel'))
  .map((m) => found.get(m.id))
  // A panel is drawn when its plot frame has a size, not only its element (a daily grid laid
  // out in a nested column got frames of no size: blank panels with their element in place).
  .filter((v) => v && v.el.isConnected && v.bbox.width > 0 && v.frame.bbox.width > 0
                 && v.frame.bbox.height > 0)
  .map((v) => v.model.renderers[0].data_source.get_length());
"""

SOURCES_TEXT = """
return [...Bokeh.documents[0].all_models]
  .filter((m) => m.type === 'ColumnDataSource' || m.constructor.name === 'ColumnDataSource'
                 || 'selected' in m && 'data' in m)
  .map((m) => JSON.stringify(m.data instanceof Map ? [...m.data.entries()] : m.data))
  .join('\\n');
"""


def cohort_ids(dashboard: Dashboard) -> list[str]:
    queries = LakeQueries(DuckDbEngine(dashboard.lake.settings))
    return list(queries.cohort(dashboard.lake.periods[1])["patient_id"])


def open_view(driver: Any, url: str, status_model: str, expected: str) -> str:
    console_errors(driver)  # drop entries of the previous page
    driver.get(url)
    return str(
        wait_for(
            lambda: expected in (text := model_text(driver, status_model)) and text,
            what=f"{status_model} to say {expected!r}",
        )
    )


CLICK_RELEASE = FIND_DEEP.replace(
    "return found;",
    "const b = found.find((e) => e.textContent.trim() === 'Release statistics' && !e.disabled);"
    " if (b) b.click(); return Boolean(b);",
)


def release(driver: Any) -> None:
    """Clicks "Release statistics" once it is enabled, in the page: BokehJS re-renders the
    button when its ``disabled`` flips, so an element handle held across clicks goes stale."""
    wait_for(lambda: driver.execute_script(CLICK_RELEASE, "button"), what="an enabled release")


def test_report_shows_fourteen_daily_panels_without_errors(
    dashboard: Dashboard, browser: Any
) -> None:
    patient_id = cohort_ids(dashboard)[0]
    status = open_view(
        browser, f"{dashboard.url}?view=report&patient={patient_id}", "report-status", "Showing"
    )
    assert patient_id in status
    panels = wait_for(lambda: browser.execute_script(RENDERED_DAILY_PANELS), what="daily panels")
    assert len(panels) == 14
    assert sum(panels) > 14 * 200  # days of 5-minute readings are drawn, not empty panels
    # The "all metrics" table: the iglu profile's first rows, with a value and the reference.
    cells = wait_for(
        lambda: (
            (texts := deep_texts(browser, ".slick-cell"))
            and "above_percent.above_140" in texts
            and texts
        ),
        what="the all-metrics table",
    )
    row = cells.index("above_percent.above_140")
    assert float(cells[row + 1]) >= 0
    assert cells[row + 2].startswith("R iglu 4.3.0 above_percent(); Battelino et al. 2019")
    screenshot(browser, "report")
    assert console_errors(browser) == []
    mmol = next(b for b in browser.execute_script(FIND_DEEP, "button") if b.text == "mmol/L")
    mmol.click()
    wait_for(
        lambda: [t for t in deep_texts(browser, ".slick-cell") if t.endswith("mmol/L")],
        what="the statistics in mmol/L",
    )
    assert len(browser.execute_script(RENDERED_DAILY_PANELS)) == 14  # redrawn in the new unit
    assert console_errors(browser) == []


def test_clicking_a_cohort_row_opens_that_patients_report(
    dashboard: Dashboard, browser: Any
) -> None:
    ids = cohort_ids(dashboard)
    open_view(browser, f"{dashboard.url}?view=cohort", "cohort-status", f"{len(ids)} patients")
    rows = wait_for(lambda: browser.execute_script(FIND_DEEP, ".slick-row"), what="table rows")
    # The grid renders the rows in view only.
    assert len(rows) == len(ids) if len(ids) <= 10 else len(rows) >= 10
    screenshot(browser, "cohort")
    assert console_errors(browser) == []
    cell = browser.execute_script(FIND_DEEP, ".slick-row .slick-cell")[0]
    clicked = cell.text.strip()
    assert clicked in ids
    cell.click()
    wait_for(lambda: "view=report" in browser.current_url, what="navigation to the report")
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["patient"] == [clicked]
    assert query["period"] == [dashboard.lake.periods[1].isoformat()]
    status = wait_for(
        lambda: (
            model_text(browser, "report-status").startswith("Showing")
            and model_text(browser, "report-status")
        ),
        what="the report",
    )
    assert clicked in status
    assert console_errors(browser) == []


def test_privacy_mode_releases_aggregates_and_shows_no_patient(
    dashboard: Dashboard, browser: Any
) -> None:
    open_view(browser, f"{dashboard.url}?view=privacy", "cohort-status", "Period ")
    release(browser)
    wait_for(lambda: "Released" in model_text(browser, "privacy-status"), what="a release")
    screenshot(browser, "privacy")
    sources = browser.execute_script(SOURCES_TEXT)
    assert "top" in sources  # the histograms' sources were read
    assert not [pid for pid in cohort_ids(dashboard) if pid in sources]
    assert browser.execute_script(FIND_DEEP, ".slick-row") == []
    releases = 1
    # 3.0 of budget at ε 0.5 a release: the seventh is refused. Each click waits for the
    # previous release to answer, as the button (disabled meanwhile) makes a person do.
    while "Privacy budget spent" not in (before := model_text(browser, "privacy-status")):
        assert releases < 7, f"release {releases + 1} was not refused: {before}"
        release(browser)
        releases += 1
        wait_for(lambda: model_text(browser, "privacy-status") != before, what="an answer")
    assert releases == 7
    assert console_errors(browser) == []


def test_live_view_receives_points_while_the_stack_streams(
    dashboard: Dashboard, browser: Any
) -> None:
    settings = dashboard.lake.settings
    patient_id = patient(42)
    console_errors(browser)
    browser.get(f"{dashboard.url}?view=live&patient={patient_id}")
    wait_for(lambda: model_text(browser, "live-status").startswith("live:"), what="the feed")
    producer = Producer(readings_stream(settings))
    counts = []
    start = 1_767_571_200_000
    for batch in range(3):
        producer.publish(
            [
                reading(
                    patient_id=patient_id,
                    measured_at=start + (batch * 4 + i) * FIVE_MINUTES_MS,
                    produced_at=start + (batch * 4 + i) * FIVE_MINUTES_MS + 1000,
                    glucose_mg_dl=120 - 10 * batch - i,
                )
                for i in range(4)
            ]
        )
        expected = 4 * (batch + 1)
        counts.append(
            wait_for(
                lambda n=expected: model_text(browser, "live-count") == f"{n} readings" and n,
                what=f"{expected} live points",
            )
        )
    assert counts == [4, 8, 12]
    aws_client("sns", settings).publish(
        TopicArn=settings.topic_arn(settings.names.alerts_topic),
        Message=json.dumps(
            {
                "patient_id": patient_id,
                "kind": "URGENT_LOW",
                "severity": "CRITICAL",
                "glucose_mg_dl": 52,
                "measured_at": start,
                "utc_offset_minutes": 60,
                "alert_id": "0" * 32,
                "episode_start": start,
                "rate_mg_dl_per_min": None,
                "projected_mg_dl": None,
                "raised_at": start + 2_000,
            }
        ),
    )
    alerts = wait_for(
        lambda: [t for t in deep_texts(browser, ".slick-cell") if t == "URGENT_LOW"],
        what="the alert in the feed",
    )
    assert alerts == ["URGENT_LOW"]
    screenshot(browser, "live")
    assert console_errors(browser) == []


CLICK_ACKNOWLEDGE = FIND_DEEP.replace(
    "return found;",
    "const b = found.find((e) => e.textContent.trim() === 'Acknowledge selected' && !e.disabled);"
    " if (b) b.click(); return Boolean(b);",
)


def alert_readings(patient_id: str, values: list[int], start: int) -> list[InboundRecord]:
    codec = default_codec()
    return [
        InboundRecord(
            sequence_number=str(index),
            partition_key=patient_id,
            data=codec.encode(
                reading(
                    patient_id=patient_id,
                    measured_at=start + index * FIVE_MINUTES_MS,
                    produced_at=start + index * FIVE_MINUTES_MS + 4_000,
                    glucose_mg_dl=value,
                    status=sensor_status(value),
                ).to_record()
            ),
            arrived_at_ms=start + index * FIVE_MINUTES_MS + 9_000,
        )
        for index, value in enumerate(values)
    ]


def raise_alerts(
    store: PatientStateStore, topic: AlertTopic, batch: list[InboundRecord]
) -> list[Alert]:
    """The alerts consumer over the local stack, its clock a second after the batch arrived."""
    now_s = (batch[-1].arrived_at_ms + 1_000) / 1000
    outcome = AlertConsumer(store, topic, clock=lambda: now_s).process(batch)
    assert outcome.first_failed is None, outcome.reason
    return list(outcome.alerts)


def test_live_view_acknowledges_the_selected_alert(dashboard: Dashboard, browser: Any) -> None:
    """Alerts raised by the alerts consumer over the local stack (recorded in the patient-state
    table, published to the topic) reach the table; the selected one is acknowledged in that
    table through the dashboard's own acknowledger."""
    settings = dashboard.lake.settings
    store = PatientStateStore(aws_client("dynamodb", settings), settings.names.patient_state_table)
    topic = AlertTopic(aws_client("sns", settings), settings.topic_arn(settings.names.alerts_topic))
    falling, quiet = patient(43), patient(44)
    PatientAlertControls(store).update_settings(quiet, {"quiet_hours": "00:00-23:59"})
    start = 1_767_657_600_000
    raised = [
        *raise_alerts(store, topic, alert_readings(falling, [50] * 7, start)),
        *raise_alerts(store, topic, alert_readings(quiet, [68, 66, 65, 64, 50], start)),
    ]
    repeat = next(a for a in raised if a.repeat == 1)
    assert any(a.silenced for a in raised)

    console_errors(browser)
    browser.get(f"{dashboard.url}?view=live&patient={falling}")
    wait_for(lambda: model_text(browser, "live-status").startswith("live:"), what="the feed")
    wait_for(
        lambda: (
            "silenced (quiet hours)" in deep_texts(browser, ".slick-cell")
            and "#1" in deep_texts(browser, ".slick-cell")
        ),
        what="the repeat and the silenced alert in the table",
    )
    # Clicking a cell selects its row (its index goes to the server with the selection).
    (cell,) = [c for c in browser.execute_script(FIND_DEEP, ".slick-cell") if c.text == "#1"]
    cell.click()
    wait_for(lambda: browser.execute_script(CLICK_ACKNOWLEDGE, "button"), what="the button")
    status = wait_for(
        lambda: "acknowledged by" in (text := model_text(browser, "acknowledge-status")) and text,
        what="the acknowledgement",
    )
    local = datetime.fromtimestamp(
        (repeat.measured_at + repeat.utc_offset_minutes * 60_000) / 1000, tz=UTC
    ).strftime("%a %H:%M")
    assert (
        f"URGENT_LOW #1 at {local} (alert {repeat.alert_id}): acknowledged by dashboard" in status
    )
    wait_for(lambda: "acknowledged" in deep_texts(browser, ".slick-cell"), what="the status column")
    state = PatientAlertState.from_dict(store.load(falling).state or {})
    assert [(a.alert_id, a.by) for a in state.acknowledged] == [(repeat.alert_id, "dashboard")]
    screenshot(browser, "live_ack")
    assert console_errors(browser) == []
