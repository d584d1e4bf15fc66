"""Each view in real headless Chromium: loads without console errors and does its job."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.dashboard.queries import LakeQueries
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
  .filter((v) => v && v.el.isConnected && v.bbox.width > 0)
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
