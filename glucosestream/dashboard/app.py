"""The dashboard's document: the view the URL asks for, under the navigation
(``bokeh_app/main.py`` calls :func:`build`).

Views, chosen by the URL (``?view=…``): ``report`` (a patient's AGP report, views/report.py),
``cohort`` (triage table and distributions, views/cohort.py), ``privacy`` (the cohort view with
privacy mode on) and ``live`` (views/live.py). Queries run on the shared thread pool through a
:class:`~glucosestream.dashboard.runner.Runner`; their results are applied on the document's next
tick, so a slow query never blocks the server's event loop or another session.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
from urllib.parse import urlencode

from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models.widgets.markups import Div

from glucosestream.dashboard.identity import LOCAL_VIEWER, Viewer
from glucosestream.dashboard.live import LiveFeed
from glucosestream.dashboard.privacy_ledger import PrivacyLedger
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.runner import Runner
from glucosestream.dashboard.units import Unit
from glucosestream.dashboard.views.cohort import CohortView
from glucosestream.dashboard.views.live import LIVE_PERIOD_MS, Acknowledger, LiveView
from glucosestream.dashboard.views.report import ReportView

VIEWS = ("report", "cohort", "privacy", "live")


def navigation(current: str, patient: str | None) -> Div:
    links = []
    for view in VIEWS:
        query = {"view": view, **({"patient": patient} if patient else {})}
        label = {
            "report": "Patient report",
            "cohort": "Cohort triage",
            "privacy": "Privacy mode",
            "live": "Live",
        }[view]
        style = "font-weight:bold;text-decoration:none" if view == current else ""
        links.append(f'<a href="?{html.escape(urlencode(query))}" style="{style}">{label}</a>')
    return Div(text=" | ".join(links), name="nav")


def _arg(arguments: Mapping[str, list[bytes]], name: str) -> str | None:
    values = arguments.get(name)
    return values[0].decode("utf-8", "replace") if values else None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def build(
    doc: Document,
    queries: LakeQueries,
    live: LiveFeed,
    runner: Runner,
    arguments: Mapping[str, list[bytes]],
    *,
    ledger: PrivacyLedger,
    viewer: Viewer = LOCAL_VIEWER,
    privacy_only: bool = False,
    acknowledge: Acknowledger | None = None,
) -> object:
    """Put the view the URL asks for into ``doc``; returns the view object.

    ``ledger`` and ``viewer``: whose privacy budget releases are charged to, and where.
    ``privacy_only``: every URL gets the privacy view, locked (no per-patient view exists).
    ``acknowledge``: how the live view acknowledges an alert (None: it cannot).
    """
    view = _arg(arguments, "view") or "report"
    if view not in VIEWS:
        view = "report"
    if privacy_only:
        view = "privacy"
    patient = _arg(arguments, "patient")
    period = _date(_arg(arguments, "period"))
    unit = Unit.MMOL_L if _arg(arguments, "unit") == "mmol" else Unit.MG_DL
    doc.title = "GlucoseStream"
    built: ReportView | CohortView | LiveView
    if view == "report":
        built = ReportView(queries, runner, patient, period, unit)
    elif view in {"cohort", "privacy"}:
        built = CohortView(
            queries,
            runner,
            period,
            unit,
            privacy=view == "privacy",
            ledger=ledger,
            viewer=viewer,
            locked=privacy_only,
        )
    else:
        built = LiveView(live, runner, patient, unit, acknowledge=acknowledge)
        doc.add_periodic_callback(built.tick, LIVE_PERIOD_MS)
    header = Div(text="<b>GlucoseStream — cohort aggregates</b>") if privacy_only else None
    doc.add_root(column(header or navigation(view, patient), built.layout))
    return built


__all__ = ["build", "navigation"]
