"""The views built into a Bokeh document over the simulated lake (no browser, no server)."""

from __future__ import annotations

import json
import math
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bokeh.document import Document
from bokeh.models import ColumnDataSource, GridPlot

from glucosestream.dashboard import app
from glucosestream.dashboard.identity import LOCAL_VIEWER, Viewer
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.privacy_ledger import PrivacyLedger
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.domain.reading import MG_DL_PER_MMOL_L
from glucosestream.local.privacy_ledger import FilePrivacyLedger
from glucosestream.settings import load_settings
from tests.factories import FIVE_MINUTES_MS, START_MS, patient, reading
from tests.unit.dashboard.lake import Lake

BUDGET = 3.0


def fresh_ledger() -> FilePrivacyLedger:
    return FilePrivacyLedger(Path(tempfile.mkdtemp()) / "ledger.json", Decimal(repr(BUDGET)))


def build(
    queries: LakeQueries,
    *,
    ledger: PrivacyLedger | None = None,
    viewer: Viewer = LOCAL_VIEWER,
    **arguments: str,
) -> tuple[Document, object]:
    doc = Document()
    live = LiveFeed(load_settings(env="test"))
    view = app.build(
        doc,
        queries,
        live,
        app.InlineRunner(),
        {name: [value.encode()] for name, value in arguments.items()},
        ledger=ledger or fresh_ledger(),
        viewer=viewer,
    )
    return doc, view


def document_text(doc: Document) -> str:
    return json.dumps(doc.to_json(), default=str)


def test_report_shows_the_latest_period_with_fourteen_daily_panels(
    lake: Lake, queries: LakeQueries
) -> None:
    patient_id = queries.cohort(lake.periods[1])["patient_id"][0]
    _, view = build(queries, view="report", patient=patient_id)
    assert isinstance(view, app.ReportView)
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
    assert isinstance(view, app.ReportView)
    before = list(view.agp.data["p50"])
    view.unit_group.active = 1  # mmol/L
    after = view.agp.data["p50"]
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if not math.isnan(b)]
    assert pairs
    assert all(a == pytest.approx(b / MG_DL_PER_MMOL_L) for b, a in pairs)
    assert "mmol/L" in view.stats.data["value"][3]


def test_changing_the_period_loads_that_period(lake: Lake, queries: LakeQueries) -> None:
    _, view = build(queries, view="report")
    assert isinstance(view, app.ReportView)
    view.period_select.value = lake.periods[0].isoformat()
    assert view.data is not None
    assert view.data.period_end == lake.periods[0]


def test_cohort_lists_every_patient_with_flags(lake: Lake, queries: LakeQueries) -> None:
    _, view = build(queries, view="cohort")
    assert isinstance(view, app.CohortView)
    rows = view.table_source.data
    assert len(rows["patient_id"]) == 6
    assert sum(view.tir_hist.data["top"]) == 6
    # Every row with a TIR change has it equal to the two periods' difference.
    previous = {
        p: t
        for p, t in zip(
            *(queries.cohort(lake.periods[0])[c] for c in ("patient_id", "tir_70_180")),
            strict=True,
        )
    }
    for patient_id, tir, change in zip(
        rows["patient_id"], rows["tir"], rows["tir_change"], strict=True
    ):
        assert change == pytest.approx(tir - previous[patient_id], abs=0.11)


def test_privacy_mode_leaves_no_patient_in_the_document(queries: LakeQueries, lake: Lake) -> None:
    ids = queries.cohort(lake.periods[1])["patient_id"]
    doc, view = build(queries, view="cohort")
    assert isinstance(view, app.CohortView)
    assert all(pid in document_text(doc) for pid in ids)  # the check can see them
    view.privacy_toggle.active = True
    view._release()
    text = document_text(doc)
    assert not [pid for pid in ids if pid in text]
    assert not view.table.visible
    assert "Released (ε = 0.5" in view.privacy_status.text
    # Per-patient glyph data: no source may hold one row per patient.
    for model in doc.models:
        if isinstance(model, ColumnDataSource) and "patient_id" in model.data:
            assert model.data["patient_id"] == []


def test_a_reloaded_page_refuses_when_the_user_already_spent_the_budget(
    queries: LakeQueries, tmp_path: Path
) -> None:
    """The budget is the user's, not the page's: a new page (a reload, or a restarted server
    reading the same ledger file) starts where the last one stopped."""
    path = tmp_path / "ledger.json"
    _, first = build(queries, ledger=FilePrivacyLedger(path, Decimal(1)), view="privacy")
    assert isinstance(first, app.CohortView)
    first.epsilon.value = 1.0
    first._release()
    assert "Released" in first.privacy_status.text
    _, reloaded = build(queries, ledger=FilePrivacyLedger(path, Decimal(1)), view="privacy")
    assert isinstance(reloaded, app.CohortView)
    assert "ε 1 spent of 1 this month" in reloaded.privacy_status.text  # read before a click
    before = dict(reloaded.tir_hist.data)
    reloaded.epsilon.value = 0.1
    reloaded._release()
    assert "Privacy budget spent" in reloaded.privacy_status.text
    assert "local-user" in reloaded.privacy_status.text
    assert reloaded.tir_hist.data == before
    assert not reloaded.release_button.disabled  # the refusal leaves the page usable


def test_an_unverified_user_gets_no_release(queries: LakeQueries, tmp_path: Path) -> None:
    ledger = FilePrivacyLedger(tmp_path / "ledger.json", Decimal(3))
    viewer = Viewer(None, "no signed-in user (the load balancer's identity headers)")
    _, view = build(queries, ledger=ledger, viewer=viewer, view="privacy")
    assert isinstance(view, app.CohortView)
    before = dict(view.tir_hist.data)
    view._release()
    assert "could not be verified" in view.privacy_status.text
    assert view.tir_hist.data == before
    assert not (tmp_path / "ledger.json").exists()  # nothing charged, to nobody


def test_privacy_view_never_loads_patients_and_refuses_past_the_budget(
    queries: LakeQueries, lake: Lake
) -> None:
    ids = queries.cohort(lake.periods[1])["patient_id"]
    doc, view = build(queries, view="privacy")
    assert isinstance(view, app.CohortView)
    assert view.private
    assert view.period_select.disabled
    assert "patients" not in view.status.text  # the exact count is a statistic too
    view.epsilon.value = 1.0
    releases = int(BUDGET / 1.0)
    for _ in range(releases):
        view._release()
        assert "Released" in view.privacy_status.text
    released = dict(view.tir_hist.data)
    view._release()
    assert "Privacy budget spent" in view.privacy_status.text
    assert view.tir_hist.data == released  # nothing new was shown
    assert not [pid for pid in ids if pid in document_text(doc)]


def test_live_view_streams_new_points_with_rollover(queries: LakeQueries) -> None:
    doc = Document()
    feed = LiveFeed(load_settings(env="test"))
    view = app.LiveView(feed, patient(1))
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
        [
            reading(measured_at=START_MS + (10 + i) * FIVE_MINUTES_MS)
            for i in range(app.LIVE_ROLLOVER)
        ]
    )
    view.tick()
    assert len(view.source.data["glucose"]) == app.LIVE_ROLLOVER
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


def test_views_say_so_when_the_lake_has_no_marts(tmp_path: object) -> None:
    from pathlib import Path

    from glucosestream.local.dashboard_engine import DuckDbEngine

    assert isinstance(tmp_path, Path)
    empty = LakeQueries(DuckDbEngine(load_settings(state_dir=tmp_path, env="test")))
    _, report = build(empty, view="report")
    _, cohort = build(empty, view="cohort")
    assert isinstance(report, app.ReportView)
    assert isinstance(cohort, app.CohortView)
    assert "No period metrics" in report.status.text
    assert "No period metrics" in cohort.status.text


def test_thread_runner_queries_off_the_event_loop_and_applies_on_the_next_tick() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any

    class Session:
        """What the runner needs of a served document: a session and the next-tick queue."""

        session_context = object()

        def __init__(self) -> None:
            self.ticks: list[Any] = []
            self.queued = threading.Event()

        def add_next_tick_callback(self, callback: Any) -> None:
            self.ticks.append(callback)
            self.queued.set()

    doc = Session()
    release = threading.Event()
    worker: list[str] = []
    applied: list[int] = []

    def slow_query() -> int:
        worker.append(threading.current_thread().name)
        release.wait(5)
        return 42

    with ThreadPoolExecutor(1, thread_name_prefix="query") as pool:
        app.ThreadRunner(doc, pool).submit(slow_query, applied.append, pytest.fail)  # type: ignore[arg-type]
        assert applied == []  # submit returned while the query was still running
        release.set()
        assert doc.queued.wait(5)
    assert worker[0].startswith("query")
    assert applied == []  # nothing touched the document outside its next tick
    doc.ticks[0]()
    assert applied == [42]


def test_a_privacy_only_dashboard_cannot_leave_privacy_mode(
    queries: LakeQueries, lake: Lake
) -> None:
    ids = queries.cohort(lake.periods[1])["patient_id"]
    doc = Document()
    view = app.build(
        doc,
        queries,
        LiveFeed(load_settings(env="test")),
        app.InlineRunner(),
        {"view": [b"report"], "patient": [ids[0].encode()]},
        ledger=fresh_ledger(),
        privacy_only=True,
    )
    assert isinstance(view, app.CohortView)
    assert view.private
    assert view.privacy_toggle.disabled
    view.privacy_toggle.active = False  # what a tampered client could send
    assert view.private
    view._release()
    assert not [pid for pid in ids if pid in document_text(doc)]


def test_views_read_the_lake_only_through_the_query_adapter() -> None:
    """AGP report, cohort, privacy and live views: no engine, no lake files, no local runtime.
    Lake reads go through LakeQueries (engine chosen by engine_for in the composition root);
    the live view's AWS calls through the adapters."""
    import ast

    from glucosestream.resources import project_path

    forbidden = (
        "duckdb",
        "pyarrow",
        "sqlglot",
        "boto3",
        "glucosestream.local",
        "glucosestream.elt",
    )
    views = ["app", "viewmodel", "figures", "privacy", "identity", "live", "units"]
    for name in views:
        tree = ast.parse(project_path("glucosestream", "dashboard", f"{name}.py").read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        bad = {m for m in imported if m.startswith(forbidden)}
        assert not bad, f"glucosestream/dashboard/{name}.py imports {bad}"
