"""The document the URL asks for: the view, the privacy-only deployment, and what the views
may import."""

from __future__ import annotations

from pathlib import Path

from bokeh.document import Document

from glucosestream.dashboard import app
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.runner import InlineRunner
from glucosestream.dashboard.views.cohort import CohortView
from glucosestream.dashboard.views.report import ReportView
from glucosestream.settings import load_settings
from tests.component.dashboard.documents import build, document_text, fresh_ledger
from tests.component.dashboard.lake import Lake


def test_views_say_so_when_the_lake_has_no_marts(tmp_path: object) -> None:

    from glucosestream.local.dashboard_engine import DuckDbEngine

    assert isinstance(tmp_path, Path)
    empty = LakeQueries(DuckDbEngine(load_settings(state_dir=tmp_path, env="test")))
    _, report = build(empty, view="report")
    _, cohort = build(empty, view="cohort")
    assert isinstance(report, ReportView)
    assert isinstance(cohort, CohortView)
    assert "No period metrics" in report.status.text
    assert not any(part.visible for part in report.body_parts)  # no 0 % bands, no empty panels
    assert "No period metrics" in cohort.status.text


def test_a_privacy_only_dashboard_cannot_leave_privacy_mode(
    queries: LakeQueries, lake: Lake
) -> None:
    ids = queries.cohort(lake.periods[1])["patient_id"]
    doc = Document()
    view = app.build(
        doc,
        queries,
        LiveFeed(load_settings(env="test")),
        InlineRunner(),
        {"view": [b"report"], "patient": [ids[0].encode()]},
        ledger=fresh_ledger(),
        privacy_only=True,
    )
    assert isinstance(view, CohortView)
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
    views = ["app", "runner", "viewmodel", "figures", "privacy", "identity", "live", "units"]
    views += [
        f"views/{path.stem}"
        for path in project_path("glucosestream", "dashboard", "views").glob("*.py")
    ]
    assert {"views/report", "views/cohort", "views/live"} <= set(views)
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


def test_an_unknown_patient_gets_an_explicit_empty_state(queries: LakeQueries) -> None:
    _, report = build(queries, view="report", patient="p_nosuchpatient")
    assert isinstance(report, ReportView)
    assert "Unknown patient" in report.status.text
    assert "p_nosuchpatient" in report.status.text
    assert not any(part.visible for part in report.body_parts)
    assert not report.warning.visible
