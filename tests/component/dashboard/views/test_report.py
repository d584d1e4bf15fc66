"""The report view over the simulated lake: periods, daily panels, units."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from bokeh.models import GridPlot

from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.views.report import ReportView
from glucosestream.domain.reading import MG_DL_PER_MMOL_L
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
