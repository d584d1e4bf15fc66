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


def _decimals(unit: Unit) -> int:
    """The resolution glucose is written in: whole mg/dL, tenths of mmol/L."""
    return 0 if unit is Unit.MG_DL else 1


def glucose_level(mg_dl: float, unit: Unit) -> str:
    """A consensus threshold as clinicians write it in ``unit``, without the unit: 70 mg/dL is
    "70" or "3.9" (Battelino 2019 gives 54, 70, 180, 250 mg/dL as 3.0, 3.9, 10.0, 13.9 mmol/L,
    which is the conversion rounded to the tenth)."""
    value = convert(mg_dl, unit)
    assert value is not None
    return f"{value:.{_decimals(unit)}f}"


@dataclass(frozen=True, slots=True)
class GlucoseRange:
    """A consensus glucose range, bounds in mg/dL (None: unbounded on that side).

    :meth:`label` is the one place a range is written for the screen, so every label follows
    the chosen unit: "<54", "54–69", "70–180", "181–250", ">250" in mg/dL are "<3.0", "3.0–3.8",
    "3.9–10.0", "10.1–13.9", ">13.9" in mmol/L (Battelino 2019). A two-sided range is written
    with the values it includes, so an excluded bound moves one display step inwards
    (< 70 ends at 69 mg/dL, 3.8 mmol/L; > 180 starts at 181 mg/dL, 10.1 mmol/L).
    """

    low_mg_dl: float | None = None
    high_mg_dl: float | None = None
    includes_low: bool = True
    includes_high: bool = True

    def label(self, unit: Unit) -> str:
        low, high = self.low_mg_dl, self.high_mg_dl
        if low is None and high is None:
            raise ValueError("a glucose range needs at least one bound")
        if low is None:
            assert high is not None
            return f"{'≤' if self.includes_high else '<'}{glucose_level(high, unit)}"
        if high is None:
            return f"{'≥' if self.includes_low else '>'}{glucose_level(low, unit)}"
        return f"{self._bound(low, self.includes_low, +1, unit)}–" + self._bound(
            high, self.includes_high, -1, unit
        )

    @staticmethod
    def _bound(mg_dl: float, included: bool, inwards: int, unit: Unit) -> str:
        written = glucose_level(mg_dl, unit)
        if included:
            return written
        # One step from the threshold as written (3.9 → 3.8, 10.0 → 10.1), as the consensus
        # table writes the neighbouring band's bound.
        decimals = _decimals(unit)
        return f"{float(written) + inwards * 10.0**-decimals:.{decimals}f}"


VERY_LOW_MG_DL = 54.0
VERY_HIGH_MG_DL = 250.0
TARGET_RANGE = GlucoseRange(TARGET_LOW_MG_DL, TARGET_HIGH_MG_DL)
BELOW_TARGET = GlucoseRange(high_mg_dl=TARGET_LOW_MG_DL, includes_high=False)
BELOW_VERY_LOW = GlucoseRange(high_mg_dl=VERY_LOW_MG_DL, includes_high=False)
ABOVE_TARGET = GlucoseRange(low_mg_dl=TARGET_HIGH_MG_DL, includes_low=False)
ABOVE_VERY_HIGH = GlucoseRange(low_mg_dl=VERY_HIGH_MG_DL, includes_low=False)


@dataclass(frozen=True, slots=True)
class RangeBand:
    """One band of the stacked time-in-ranges bar, with its consensus goal."""

    key: str
    name: str
    glucose: GlucoseRange
    color: str
    goal: str
    """The band's own goal ("<4%")."""
    cumulative: GlucoseRange | None = None
    """The wider range a second goal counts (the low band's goal also counts < 70 in total)."""

    def label(self, unit: Unit) -> str:
        return f"{self.name} ({self.glucose.label(unit)})"

    def goal_text(self, unit: Unit) -> str:
        if self.cumulative is None:
            return self.goal
        return f"{self.goal}, {self.cumulative.label(unit)} total"


# Bottom to top, as the AGP report stacks them. The mart's tbr_70 is cumulative (< 70 includes
# < 54) and tar_180 includes > 250, so the bands are differences of mart columns.
RANGE_BANDS: tuple[RangeBand, ...] = (
    RangeBand("very_low", "Very low", BELOW_VERY_LOW, "#8b0000", "<1%"),
    RangeBand(
        "low",
        "Low",
        GlucoseRange(VERY_LOW_MG_DL, TARGET_LOW_MG_DL, includes_high=False),
        "#e4312b",
        "<4%",
        BELOW_TARGET,
    ),
    RangeBand("in_range", "Target", TARGET_RANGE, "#3ba55c", ">70%"),
    RangeBand(
        "high",
        "High",
        GlucoseRange(TARGET_HIGH_MG_DL, VERY_HIGH_MG_DL, includes_low=False),
        "#f5c242",
        "<25%",
        ABOVE_TARGET,
    ),
    RangeBand("very_high", "Very high", ABOVE_VERY_HIGH, "#f08a24", "<5%"),
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
