"""Figure builders: mart rows → the glyph and table data drawn."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from bokeh.models import ColumnDataSource, GlyphRenderer, Span, VArea

from glucosestream.dashboard import figures, viewmodel
from glucosestream.dashboard.units import RANGE_BANDS, Unit, convert
from glucosestream.domain.reading import MG_DL_PER_MMOL_L

PERIOD = {
    "period_start": date(2026, 1, 19),
    "period_end": date(2026, 2, 1),
    "days": 13.7,
    "active_percent": 98.2,
    "mean": 178.0,
    "gmi": 7.57,
    "cv": 37.6,
    "tbr_54": 0.6,
    "tbr_70": 3.2,
    "tir_70_180": 68.1,
    "tar_180": 28.7,
    "tar_250": 6.1,
}


def test_tir_bar_bands_are_disjoint_and_sum_to_100() -> None:
    bar, labels = viewmodel.tir_bar(PERIOD, Unit.MG_DL)
    shares = [bar[band.key][0] for band in RANGE_BANDS]
    assert shares == pytest.approx([0.6, 2.6, 68.1, 22.6, 6.1])
    assert sum(shares) == pytest.approx(100.0)
    # Each leader line points at the middle of its band.
    bottoms = [sum(shares[:i]) for i in range(5)]
    assert labels["bar_y"] == pytest.approx(
        [b + s / 2 for b, s in zip(bottoms, shares, strict=True)]
    )
    assert labels["text"][2] == "Target (70–180): 68.1% (goal >70%)"


def test_statistics_table_checks_the_consensus_goals() -> None:
    rows = viewmodel.statistics_rows(PERIOD, Unit.MG_DL)
    verdicts = dict(zip(rows["metric"], rows["met"], strict=True))
    assert verdicts["% time CGM active"] == "✓ met"
    assert verdicts["Glucose variability (CV)"] == "✗ not met"  # 37.6 > 36
    assert verdicts["Time in range 70–180"] == "✗ not met"  # 68.1 < 70
    assert verdicts["Time below 70 (incl. <54)"] == "✓ met"  # 3.2 < 4
    assert verdicts["Time above 250"] == "✗ not met"  # 6.1 > 5
    values = dict(zip(rows["metric"], rows["value"], strict=True))
    assert values["Mean glucose"] == "178 mg/dL"
    assert values["Glucose management indicator (GMI)"] == "7.6%"
    mmol = viewmodel.statistics_rows(PERIOD, Unit.MMOL_L)
    assert mmol["value"][3] == f"{178.0 / MG_DL_PER_MMOL_L:.1f} mmol/L"


def test_range_labels_follow_the_unit_as_the_consensus_writes_them() -> None:
    """Battelino 2019: <54, 54–69, 70–180, 181–250, >250 mg/dL are <3.0, 3.0–3.8, 3.9–10.0,
    10.1–13.9, >13.9 mmol/L; the mg/dL report keeps its labels."""
    _, mg = viewmodel.tir_bar(PERIOD, Unit.MG_DL)
    assert mg["text"] == [
        "Very low (<54): 0.6% (goal <1%)",
        "Low (54–69): 2.6% (goal <4%, <70 total)",
        "Target (70–180): 68.1% (goal >70%)",
        "High (181–250): 22.6% (goal <25%, >180 total)",
        "Very high (>250): 6.1% (goal <5%)",
    ]
    _, mmol = viewmodel.tir_bar(PERIOD, Unit.MMOL_L)
    assert mmol["text"] == [
        "Very low (<3.0): 0.6% (goal <1%)",
        "Low (3.0–3.8): 2.6% (goal <4%, <3.9 total)",
        "Target (3.9–10.0): 68.1% (goal >70%)",
        "High (10.1–13.9): 22.6% (goal <25%, >10.0 total)",
        "Very high (>13.9): 6.1% (goal <5%)",
    ]
    ranges = [
        "Time in range {}",
        "Time below {} (incl. <{})",
        "Time below {}",
        "Time above {} (incl. >{})",
        "Time above {}",
    ]
    mg_rows = viewmodel.statistics_rows(PERIOD, Unit.MG_DL)["metric"][-5:]
    mmol_rows = viewmodel.statistics_rows(PERIOD, Unit.MMOL_L)["metric"][-5:]
    assert mg_rows == [
        ranges[0].format("70–180"),
        ranges[1].format(70, 54),
        ranges[2].format(54),
        ranges[3].format(180, 250),
        ranges[4].format(250),
    ]
    assert mmol_rows == [
        ranges[0].format("3.9–10.0"),
        ranges[1].format("3.9", "3.0"),
        ranges[2].format("3.0"),
        ranges[3].format("10.0", "13.9"),
        ranges[4].format("13.9"),
    ]


def test_goals_are_not_judged_on_too_little_cgm_data() -> None:
    """Battelino 2019: < 70 % CGM data over 14 days gives no reliable AGP; values stay shown."""
    sparse = {**PERIOD, "active_percent": 1.7, "tir_70_180": 90.0, "cv": 20.0}
    rows = viewmodel.statistics_rows(sparse, Unit.MG_DL)
    verdicts = dict(zip(rows["metric"], rows["met"], strict=True))
    assert verdicts["% time CGM active"] == "✗ not met"
    goals = {m: v for m, v in verdicts.items() if v and m != "% time CGM active"}
    assert goals
    assert set(goals.values()) == {"— (too little data)"}
    values = dict(zip(rows["metric"], rows["value"], strict=True))
    assert values["Time in range 70–180"] == "90.0%"
    assert values["Glucose management indicator (GMI)"] == "7.6%"
    assert viewmodel.data_sufficiency_warning(sparse) == (
        "Too little CGM data for a reliable report: 1.7% of the period "
        "(≥ 70% recommended, Battelino 2019)"
    )
    assert viewmodel.data_sufficiency_warning(PERIOD) is None  # 98.2 %
    assert viewmodel.data_sufficiency_warning({**PERIOD, "active_percent": 70.0}) is None


def test_agp_columns_cover_the_day_and_convert_units() -> None:
    profile = {
        "slot": [0, 1, 95],
        "n_readings": [12, 14, 13],
        **{
            c: [100.0 + k, 110.0 + k, 120.0 + k]
            for k, c in enumerate(("p05", "p25", "p50", "p75", "p95"))
        },
    }
    mg = viewmodel.agp_columns(profile, Unit.MG_DL)
    assert len(mg["hour"]) == 96
    assert mg["hour"][95] == 23.75
    assert mg["p50"][:2] == [102.0, 112.0]
    assert math.isnan(mg["p50"][2])
    assert mg["n_readings"][95] == 13
    assert mg["n_readings"][50] == 0
    mmol = viewmodel.agp_columns(profile, Unit.MMOL_L)
    assert mmol["p95"][95] == pytest.approx(124.0 / MG_DL_PER_MMOL_L)
    assert convert(180.0, Unit.MMOL_L) == pytest.approx(9.99, abs=0.01)


def test_fourteen_daily_panels_for_fourteen_days_even_without_data() -> None:
    first = date(2026, 1, 19)
    readings = {
        "local_time": [
            datetime(2026, 1, 19, 6, 30),
            datetime(2026, 1, 21, 12, 0),
            datetime(2026, 2, 2, 0, 5),
        ],
        "glucose_mg_dl": [90, 180, 100],
    }
    panels = viewmodel.daily_panels(readings, first, Unit.MG_DL)
    assert [p.day for p in panels] == [first + timedelta(days=n) for n in range(14)]
    assert panels[0].columns == {"hour": [6.5], "glucose": [90.0]}
    assert panels[2].columns["hour"] == [12.0]
    assert panels[1].empty  # a day without data still has its panel
    assert sum(len(p.columns["hour"]) for p in panels) == 2  # the 15th day is not drawn
    sources = [ColumnDataSource(p.columns) for p in panels]
    grid = figures.daily_grid(panels, sources, Unit.MG_DL)
    assert len(grid.children) == 14
    assert {row for _, row, _ in grid.children} == {0, 1}  # type: ignore[misc]


def test_agp_figure_draws_bands_median_and_target_lines_in_the_unit() -> None:
    source = ColumnDataSource(viewmodel.agp_columns({}, Unit.MMOL_L))
    plot = figures.agp_figure(source, Unit.MMOL_L)
    areas = [
        r for r in plot.renderers if isinstance(r, GlyphRenderer) and isinstance(r.glyph, VArea)
    ]
    assert [(a.glyph.y1, a.glyph.y2) for a in areas] == [("p05", "p95"), ("p25", "p75")]
    spans = [s.location for s in plot.center if isinstance(s, Span)]
    assert spans == pytest.approx([70 / MG_DL_PER_MMOL_L, 180 / MG_DL_PER_MMOL_L])


def test_cohort_flags() -> None:
    cohort = {
        "patient_id": ["ok", "hypo", "drop", "wear", "new"],
        "tir_70_180": [80.0, 75.0, 60.0, 90.0, 70.0],
        "previous_tir": [79.0, 75.0, 65.0, 90.0, None],
        "tbr_70": [1.0, 4.5, 1.0, 0.5, 1.0],
        "tbr_54": [0.1, 0.5, 0.2, 0.0, 1.2],
        "tar_180": [19.0, 20.5, 39.0, 9.5, 29.0],
        "cv": [30.0, 40.0, 35.0, 20.0, float("nan")],
        "gmi": [6.5, 6.8, 7.4, 6.0, 7.0],
        "mean": [140.0, 150.0, 170.0, 120.0, 160.0],
        "active_percent": [95.0, 90.0, 80.0, 60.0, 99.0],
        "hypo_lv2_episodes": [0, 2, 0, 0, 0],
    }
    rows = viewmodel.cohort_rows(cohort, Unit.MG_DL)
    flags = dict(zip(rows["patient_id"], rows["flags"], strict=True))
    assert flags == {
        "ok": "",
        "hypo": "TBR above goal, level-2 hypo",
        "drop": "TIR fell ≥5",
        "wear": "low wear",
        "new": "TBR above goal",  # tbr_54 1.2 > 1
    }
    assert rows["patient_id"][0] == "hypo"  # most flags first
    assert rows["tir_change"][rows["patient_id"].index("drop")] == -5.0
    assert math.isnan(rows["tir_change"][rows["patient_id"].index("new")])


def test_histogram_counts_and_clamps() -> None:
    data = viewmodel.histogram(
        [5.0, 15.0, 15.0, 100.0, 130.0, None, float("nan")], (0, 10, 20, 100)
    )
    assert data == {"left": [0, 10, 20], "right": [10, 20, 100], "top": [1.0, 2.0, 2.0]}
    with pytest.raises(ValueError, match="counts"):
        viewmodel.histogram_columns([1.0], (0, 10, 20))


def test_iglu_rows_follow_the_profile_order_with_references() -> None:
    # As the mart returns them: ordered by name, NA as None.
    iglu = {
        "metric": ["cogi.COGI", "mean_glu.mean", "episode_calculation.hypo_lv2.avg_ep_gl",
                   "episode_calculation.hypo_lv1.total_episodes"],
        "value": [43.21987, 154.5, None, 3.0],
    }  # fmt: skip
    rows = viewmodel.iglu_rows(iglu)
    assert rows["metric"] == [
        "cogi.COGI",
        "episode_calculation.hypo_lv1.total_episodes",
        "episode_calculation.hypo_lv2.avg_ep_gl",
        "mean_glu.mean",
    ]
    assert rows["value"] == ["43.2199", "3", "", "154.5000"]
    assert rows["reference"][0] == (
        "R iglu 4.3.0 cogi(); Leelarathna et al. 2020, J Diabetes Sci Technol 14:277"
    )
    assert rows["reference"][1].startswith(
        "R iglu 4.3.0 episode_calculation(); Battelino et al. 2023"
    )
    assert viewmodel.iglu_rows({}) == {"metric": [], "value": [], "reference": []}
