"""What the views share: the redrawing table, the period labels, the unit toggle, error text."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

from bokeh.models import ColumnDataSource, CustomJS
from bokeh.models.widgets.groups import RadioButtonGroup
from bokeh.models.widgets.tables import DataTable, TableColumn

from glucosestream.dashboard.units import Unit
from glucosestream.dashboard.viewmodel import REPORT_DAYS


def data_table(source: ColumnDataSource, columns: list[TableColumn], **options: Any) -> DataTable:
    """A DataTable that redraws whenever its source's data is replaced.

    BokehJS redraws a table when the source's view (its row indices) changes, so replacing the
    data with the same number of rows (another unit, another patient's statistics) would leave
    the old values on screen; the browser-side hook emits the change itself.
    """
    table = DataTable(
        source=source,
        columns=columns,
        index_position=None,
        reorderable=False,  # needs jquery-ui, which Bokeh does not ship
        **options,
    )
    source.js_on_change("data", CustomJS(args={"view": table.view}, code="view.change.emit()"))
    return table


def period_label(end: date) -> str:
    return f"{end - timedelta(days=REPORT_DAYS - 1)} – {end}"


def period_options(periods: list[date]) -> list[str | tuple[Any, str]]:
    return [(p.isoformat(), period_label(p)) for p in periods]


def unit_group(unit: Unit) -> RadioButtonGroup:
    return RadioButtonGroup(labels=[u.value for u in Unit], active=list(Unit).index(unit))


def error_text(prefix: str, error: Exception) -> str:
    return f"<b>{html.escape(prefix)}</b>: {html.escape(str(error))}"
