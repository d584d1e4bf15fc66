"""Bokeh figure builders: a data source (or its data) in, a figure out; no queries, no state.

Colours and layout follow the International Diabetes Center AGP report: the target range is a
green band / lines at 70 and 180 mg/dL, the modal day shows the median, the 25–75 % and the
5–95 % bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bokeh.layouts import gridplot
from bokeh.models import (
    ColumnDataSource,
    DataRange1d,
    DatetimeTickFormatter,
    FixedTicker,
    GridPlot,
    HoverTool,
    Plot,
    Range1d,
)
from bokeh.models.annotations import BoxAnnotation, Span, Title
from bokeh.models.text import BaseText
from bokeh.plotting import figure

from glucosestream.dashboard.units import (
    RANGE_BANDS,
    TARGET_HIGH_MG_DL,
    TARGET_LOW_MG_DL,
    Unit,
    convert,
)
from glucosestream.dashboard.viewmodel import Columns, DailyPanel

BAND_OUTER = "#9ecae1"
BAND_INNER = "#4292c6"
MEDIAN = "#08306b"
TARGET = "#3ba55c"
AGP_MAX_MG_DL = 350.0
DAILY_MAX_MG_DL = 400.0
HOUR_TICKS = [0, 3, 6, 9, 12, 15, 18, 21, 24]


def _target(unit: Unit) -> tuple[float, float]:
    low = convert(TARGET_LOW_MG_DL, unit)
    high = convert(TARGET_HIGH_MG_DL, unit)
    assert low is not None
    assert high is not None
    return low, high


def _clock_labels(hours: Sequence[int]) -> dict[float | str, str | BaseText]:
    return {float(hour): f"{hour:02d}:00" for hour in hours}


def _target_ticks(unit: Unit) -> list[float]:
    # Labels at the limits, rounded as clinicians write them (3.9 and 10.0 mmol/L).
    return [round(value, 1) for value in _target(unit)]


def set_unit(plot: Plot, unit: Unit) -> None:
    """Re-express a glucose figure in ``unit`` in place: y range, target lines and band,
    ticks, axis label (its data sources are converted by the caller). In place, because
    swapping figures in a live document can leave sibling widgets unsynced in the browser."""
    low, high = _target(unit)
    top = plot.tags[0] if plot.tags and isinstance(plot.tags[0], float) else DAILY_MAX_MG_DL
    if isinstance(plot.y_range, Range1d):
        plot.y_range.end = _y_max(unit, top)
    spans = [a for a in plot.center if isinstance(a, Span) and TARGET in a.tags]
    for span, level in zip(spans, (low, high), strict=False):
        span.location = level
    for band in (a for a in plot.center if isinstance(a, BoxAnnotation)):
        band.bottom, band.top = low, high
    for axis in plot.yaxis:
        if isinstance(axis.ticker, FixedTicker):
            axis.ticker.ticks = _target_ticks(unit)
        if axis.axis_label:
            axis.axis_label = str(unit)


def _y_max(unit: Unit, mg_dl: float) -> float:
    value = convert(mg_dl, unit)
    assert value is not None
    return value


def tir_bar_figure(bar: ColumnDataSource, labels: ColumnDataSource) -> figure:
    """The stacked time-in-ranges bar (bottom: very low) with its labelled shares and goals."""
    plot = figure(
        title="Time in ranges",
        x_range=Range1d(start=0, end=3.2),
        y_range=Range1d(start=0, end=100),
        width=470,
        height=330,
        toolbar_location=None,
        name="tir-bar",
    )
    keys = [band.key for band in RANGE_BANDS]
    plot.vbar_stack(
        keys,
        x="x",
        width=0.7,
        color=[band.color for band in RANGE_BANDS],
        source=bar,
        # The legend is hidden (the labels beside the bar say it all, in the chosen unit).
        legend_label=[band.name for band in RANGE_BANDS],
    )
    plot.text(
        x=0.95,
        y="y",
        text="text",
        source=labels,
        text_font_size="9pt",
        text_baseline="middle",
        text_color="color",
    )
    plot.segment(x0=0.8, x1=0.93, y0="bar_y", y1="y", source=labels, line_color="color")
    plot.xaxis.visible = False
    plot.yaxis.axis_label = "% of readings"
    plot.legend.visible = False
    return plot


def agp_figure(source: ColumnDataSource, unit: Unit) -> figure:
    """The AGP modal day: 5–95 and 25–75 % bands, the median, target lines at 70 and 180."""
    plot = figure(
        title="Ambulatory glucose profile (14 days)",
        width=760,
        height=330,
        x_range=Range1d(start=0, end=24),
        y_range=Range1d(start=0, end=_y_max(unit, AGP_MAX_MG_DL)),
        tags=[AGP_MAX_MG_DL],
        toolbar_location="right",
        tools="pan,wheel_zoom,reset,save",
        name="agp",
    )
    plot.varea(
        x="hour",
        y1="p05",
        y2="p95",
        source=source,
        color=BAND_OUTER,
        alpha=0.6,
        legend_label="5–95%",
    )
    plot.varea(
        x="hour",
        y1="p25",
        y2="p75",
        source=source,
        color=BAND_INNER,
        alpha=0.7,
        legend_label="25–75%",
    )
    median = plot.line(
        x="hour", y="p50", source=source, color=MEDIAN, line_width=2.5, legend_label="median"
    )
    low, high = _target(unit)
    for level in (low, high):
        plot.add_layout(
            Span(location=level, dimension="width", line_color=TARGET, line_width=2, tags=[TARGET])
        )
    plot.xaxis.ticker = FixedTicker(ticks=HOUR_TICKS)
    plot.xaxis.major_label_overrides = _clock_labels(HOUR_TICKS)
    plot.xaxis.axis_label = "time of day (local)"
    plot.yaxis.axis_label = str(unit)
    plot.legend.location = "top_left"
    plot.add_tools(
        HoverTool(
            renderers=[median],
            tooltips=[("hour", "@hour{0.00}"), ("median", "@p50{0.0}"), ("n", "@n_readings")],
        )
    )
    return plot


def daily_figure(panel: DailyPanel, source: ColumnDataSource, unit: Unit, index: int) -> figure:
    plot = figure(
        title=panel.title,
        width=150,
        height=130,
        x_range=Range1d(start=0, end=24),
        y_range=Range1d(start=0, end=_y_max(unit, DAILY_MAX_MG_DL)),
        toolbar_location=None,
        tools="",
        name=f"daily-{index}",
        tags=[DAILY_MAX_MG_DL, "daily-panel"],
    )
    low, high = _target(unit)
    plot.add_layout(BoxAnnotation(bottom=low, top=high, fill_color=TARGET, fill_alpha=0.15))
    plot.line(x="hour", y="glucose", source=source, color=MEDIAN, line_width=1.2)
    plot.xaxis.ticker = FixedTicker(ticks=[0, 12, 24])
    plot.xaxis.major_label_overrides = _clock_labels([0, 12, 24])
    plot.yaxis.ticker = FixedTicker(ticks=_target_ticks(unit))
    if isinstance(plot.title, Title):
        plot.title.text_font_size = "8pt"
    plot.min_border = 2
    return plot


def daily_grid(
    panels: Sequence[DailyPanel], sources: Sequence[ColumnDataSource], unit: Unit
) -> GridPlot:
    """The daily-profiles strip: one small figure per day, a week per row."""
    figures = [
        daily_figure(panel, source, unit, index)
        for index, (panel, source) in enumerate(zip(panels, sources, strict=True))
    ]
    grid = gridplot(figures, ncols=7, toolbar_location=None)  # type: ignore[arg-type]
    grid.name = "daily-profiles"
    return grid


def histogram_figure(
    source: ColumnDataSource, edges: Sequence[float], title: str, x_label: str, name: str
) -> figure:
    plot = figure(
        title=title,
        width=420,
        height=260,
        toolbar_location=None,
        tools="",
        name=name,
        # Fixed bins: a range computed from all-zero bars (before a release) is degenerate.
        x_range=Range1d(start=edges[0], end=edges[-1]),
        y_range=DataRange1d(start=0, default_span=1, min_interval=1),
    )
    plot.quad(
        left="left",
        right="right",
        bottom=0,
        top="top",
        source=source,
        fill_color=BAND_INNER,
        line_color="white",
    )
    plot.xaxis.axis_label = x_label
    plot.yaxis.axis_label = "patients"
    return plot


def live_figure(source: ColumnDataSource, unit: Unit) -> figure:
    """Live readings against the patient's local clock, target band behind them."""
    plot = figure(
        title="Live readings",
        width=900,
        height=320,
        x_axis_type="datetime",
        # Set by follow(): an automatic range has nothing to start from before the first point.
        x_range=Range1d(start=0, end=LIVE_WINDOW_MS),
        y_range=Range1d(start=0, end=_y_max(unit, DAILY_MAX_MG_DL)),
        tags=[DAILY_MAX_MG_DL],
        tools="pan,wheel_zoom,reset",
        name="live",
    )
    low, high = _target(unit)
    plot.add_layout(BoxAnnotation(bottom=low, top=high, fill_color=TARGET, fill_alpha=0.12))
    plot.line(x="local_time", y="glucose", source=source, color=MEDIAN)
    plot.scatter(x="local_time", y="glucose", source=source, size=4, color=MEDIAN)
    plot.xaxis.formatter = DatetimeTickFormatter(hours="%a %H:%M", minutes="%H:%M")
    plot.xaxis.axis_label = "patient's local time"
    plot.yaxis.axis_label = str(unit)
    return plot


LIVE_WINDOW_MS = 12 * 3_600_000
"""The live chart shows the last 12 hours of the patient's clock (pan or zoom to see more)."""
LIVE_MARGIN_MS = 30 * 60_000


def follow(plot: Plot, times: Sequence[datetime]) -> None:
    """Keep the newest readings in view: the last :data:`LIVE_WINDOW_MS` up to the latest."""
    if not times or not isinstance(plot.x_range, Range1d):
        return
    last = _epoch_ms(times[-1])
    first = _epoch_ms(times[0])
    plot.x_range.start = max(first, last - LIVE_WINDOW_MS) - LIVE_MARGIN_MS
    plot.x_range.end = last + LIVE_MARGIN_MS


def _epoch_ms(when: datetime) -> float:
    # Naive datetimes on the chart are wall-clock times that Bokeh draws as if UTC.
    return when.replace(tzinfo=UTC).timestamp() * 1000


def empty_columns(*names: str) -> Columns:
    return {name: [] for name in names}
