"""The report view over the simulated lake: periods, daily panels, units."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from bokeh.models import GridPlot

from bench.elt import raw_tables, write
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.views.report import ReportView
from glucosestream.domain.reading import MG_DL_PER_MMOL_L
from glucosestream.elt.refresh import run_elt
from glucosestream.local.dashboard_engine import DuckDbEngine
from glucosestream.local.lake import local_lake
from glucosestream.settings import load_settings
from tests.component.dashboard.documents import build
from tests.component.dashboard.lake import Lake


def test_report_shows_the_latest_period_with_fourteen_daily_panels(
    lake: Lake, queries: LakeQueries
) -> None:
    patient_id = queries.cohort(lake.periods[1])["patient_id"][0]
    _, view = build(queries, view="report", patient=patient_id)
    assert isinstance(view, ReportView)
    assert view.status.text.startswith("Showing")
    assert view.data is not None
    assert view.data.period_end == lake.periods[1]
    assert isinstance(view.daily, GridPlot)
    assert len(view.daily.children) == 14
    first = lake.periods[1] - timedelta(days=13)
    titles = [child[0].title.text for child in view.daily.children]
    assert titles[0].startswith(first.strftime("%a %d %b"))
    assert sum(len(s.data["glucose"]) for s in view.panel_sources) == len(
        view.data.readings["local_time"]
    )
    assert len(view.episodes.data["episode"]) == len(view.data.episodes["type"])
    assert view.period_select.options == [
        (p.isoformat(), f"{p - timedelta(days=13)} – {p}") for p in reversed(lake.periods)
    ]


def test_the_unit_toggle_converts_what_is_drawn(queries: LakeQueries) -> None:
    _, view = build(queries, view="report")
    assert isinstance(view, ReportView)
    before = list(view.agp.data["p50"])
    view.unit_group.active = 1  # mmol/L
    after = view.agp.data["p50"]
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if not math.isnan(b)]
    assert pairs
    assert all(a == pytest.approx(b / MG_DL_PER_MMOL_L) for b, a in pairs)
    assert "mmol/L" in view.stats.data["value"][3]


def test_changing_the_period_loads_that_period(lake: Lake, queries: LakeQueries) -> None:
    _, view = build(queries, view="report")
    assert isinstance(view, ReportView)
    view.period_select.value = lake.periods[0].isoformat()
    assert view.data is not None
    assert view.data.period_end == lake.periods[0]


def test_a_report_opened_in_mmol_writes_every_range_in_mmol(queries: LakeQueries) -> None:
    _, view = build(queries, view="report", unit="mmol")
    assert isinstance(view, ReportView)
    assert view.data is not None
    metrics = view.stats.data["metric"]
    assert "Time in range 3.9–10.0" in metrics
    assert "Time below 3.9 (incl. <3.0)" in metrics
    assert view.labels.data["text"][2].startswith("Target (3.9–10.0): ")
    shown = " ".join([*metrics, *view.labels.data["text"]])
    for mg_dl_label in ("70–180", "<54", "54–69", "181–250", ">250", "<70", ">180"):
        assert mg_dl_label not in shown
    view.unit_group.active = 0  # back to mg/dL: the labels follow
    assert "Time in range 70–180" in view.stats.data["metric"]
    assert view.labels.data["text"][2].startswith("Target (70–180): ")


def test_a_report_on_too_little_cgm_data_warns_and_judges_no_goal(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """48 readings: two hours of five-minute readings on each of two days of the fortnight."""
    settings = load_settings(state_dir=tmp_path_factory.mktemp("sparse-lake"), env="test")
    tables = raw_tables(1, 14)
    days = sorted({dt for dt, _ in tables})
    kept = {(dt, hour): tables[dt, hour] for dt in (days[1], days[-2]) for hour in ("08", "09")}
    assert sum(len(table) for table in kept.values()) == 48
    write(settings, kept, "sim")
    run_elt(local_lake(settings), date.fromisoformat(days[-1]))
    queries = LakeQueries(DuckDbEngine(settings))
    _, view = build(queries, view="report")
    assert isinstance(view, ReportView)
    assert view.data is not None
    assert view.data.period is not None
    active = float(view.data.period["active_percent"])
    assert active < 70
    assert view.warning.visible
    assert f"Too little CGM data for a reliable report: {active:.1f}% of the period" in (
        view.warning.text
    )
    verdicts = dict(zip(view.stats.data["metric"], view.stats.data["met"], strict=True))
    assert verdicts["% time CGM active"] == "✗ not met"
    assert verdicts["Time in range 70–180"] == "— (too little data)"
    assert verdicts["Glucose variability (CV)"] == "— (too little data)"
    assert not any("✓" in v for v in verdicts.values())


def test_a_report_on_enough_cgm_data_carries_no_warning(queries: LakeQueries) -> None:
    _, view = build(queries, view="report")
    assert isinstance(view, ReportView)
    assert not view.warning.visible
    assert "— (too little data)" not in view.stats.data["met"]
