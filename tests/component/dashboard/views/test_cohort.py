"""The cohort view over the simulated lake: triage with flags, and privacy mode, where no
patient is left in the document and releases stop at the viewer's budget."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bokeh.models import ColumnDataSource

from glucosestream.dashboard.identity import Viewer
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.views.cohort import CohortView
from glucosestream.local.privacy_ledger import FilePrivacyLedger
from tests.component.dashboard.documents import BUDGET, build, document_text
from tests.component.dashboard.lake import Lake


def test_cohort_lists_every_patient_with_flags(lake: Lake, queries: LakeQueries) -> None:
    _, view = build(queries, view="cohort")
    assert isinstance(view, CohortView)
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
    assert len(ids) == 6
    doc, view = build(queries, view="cohort")
    assert isinstance(view, CohortView)
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
    assert isinstance(first, CohortView)
    first.epsilon.value = 1.0
    first._release()
    assert "Released" in first.privacy_status.text
    _, reloaded = build(queries, ledger=FilePrivacyLedger(path, Decimal(1)), view="privacy")
    assert isinstance(reloaded, CohortView)
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
    assert isinstance(view, CohortView)
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
    assert isinstance(view, CohortView)
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


def test_cohort_range_headers_follow_the_unit(queries: LakeQueries) -> None:
    _, view = build(queries, view="cohort", unit="mmol")
    assert isinstance(view, CohortView)
    titles = [c.title for c in view.table.columns]
    assert {"TBR<3.9 %", "TBR<3.0 %", "TAR>10.0 %"} <= set(titles)
    view.unit_group.active = 0
    titles = [c.title for c in view.table.columns]
    assert {"TBR<70 %", "TBR<54 %", "TAR>180 %"} <= set(titles)
