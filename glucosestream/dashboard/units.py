"""Display units and the consensus targets the report shows (DESIGN §4, Battelino 2019).

Everything is stored in mg/dL; mmol/L exists only on screen, converted with the one factor the
code base defines (:data:`glucosestream.domain.reading.MG_DL_PER_MMOL_L`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from glucosestream.domain.reading import MG_DL_PER_MMOL_L


class Unit(StrEnum):
    MG_DL = "mg/dL"
    MMOL_L = "mmol/L"


def convert(mg_dl: float | None, unit: Unit) -> float | None:
    """A glucose value in ``unit`` (None stays None: a slot or day without readings)."""
    if mg_dl is None:
        return None
    return mg_dl if unit is Unit.MG_DL else mg_dl / MG_DL_PER_MMOL_L


def convert_all(values: Sequence[float | None], unit: Unit) -> list[float]:
    """Column conversion for glyph data; missing values become NaN (Bokeh draws a gap)."""
    out: list[float] = []
    for value in values:
        converted = convert(value, unit)
        out.append(float("nan") if converted is None else converted)
    return out


def format_glucose(mg_dl: float | None, unit: Unit) -> str:
    value = convert(mg_dl, unit)
    if value is None:
        return "–"
    return f"{value:.0f} {unit}" if unit is Unit.MG_DL else f"{value:.1f} {unit}"


TARGET_LOW_MG_DL = 70.0
TARGET_HIGH_MG_DL = 180.0


@dataclass(frozen=True, slots=True)
class RangeBand:
    """One band of the stacked time-in-ranges bar, with its consensus goal."""

    key: str
    label: str
    color: str
    goal: str


# Bottom to top, as the AGP report stacks them. The mart's tbr_70 is cumulative (< 70 includes
# < 54) and tar_180 includes > 250, so the bands are differences of mart columns.
RANGE_BANDS: tuple[RangeBand, ...] = (
    RangeBand("very_low", "Very low (<54)", "#8b0000", "<1%"),
    RangeBand("low", "Low (54–69)", "#e4312b", "<4%, <70 total"),
    RangeBand("in_range", "Target (70–180)", "#3ba55c", ">70%"),
    RangeBand("high", "High (181–250)", "#f5c242", "<25%, >180 total"),
    RangeBand("very_high", "Very high (>250)", "#f08a24", "<5%"),
)

GOAL_TIR = 70.0
GOAL_TBR_70 = 4.0
GOAL_TBR_54 = 1.0
GOAL_TAR_180 = 25.0
GOAL_TAR_250 = 5.0
GOAL_CV = 36.0
"""Glycaemic variability goal: CV <= 36 % (Battelino 2019)."""
GOAL_ACTIVE_PERCENT = 70.0
"""Data sufficiency: >= 70 % of the 14 days' data (Battelino 2019)."""
