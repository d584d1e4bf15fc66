"""Glucose units and the plausibility checks every ingest path shares.

Sources report mg/dL or mmol/L; the contract stores whole mg/dL (mmol/L × 18.016, DESIGN.md §4).
"""

from __future__ import annotations

import math
from typing import Literal

from glucosestream.domain.reading import MAX_GLUCOSE_MG_DL, mmol_l_to_mg_dl

Unit = Literal["mg/dL", "mmol/L"]
UNITS: tuple[Unit, ...] = ("mg/dL", "mmol/L")

MAX_MMOL_LOOKING_MG_DL = 35.0
"""A glucose under this, read as mg/dL, is mmol/L: no sensor or meter reports mg/dL so low for a
whole file or a decimal column (sensors stop at 40), while the mmol/L sensor range tops out at
~22-28."""
MAX_PLAUSIBLE_MMOL_L = 40.0
"""Above ~720 mg/dL nobody measures in mmol/L: such a value is mg/dL under the wrong unit."""
MIN_EPOCH_MS = 100_000_000_000
"""1973-03-03 in milliseconds, year 5138 in seconds: anything smaller is seconds, not ms."""


MAX_QUOTED_CHARS = 40


def quoted(value: object) -> str:
    """``repr`` of a client's value, cut short: reasons echo input, never a megabyte of it."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


class UnitError(ValueError):
    """A glucose value that does not fit its unit; the message says why."""


def parse_unit(text: str) -> Unit:
    """``mg/dL`` or ``mmol/L``, case-insensitive (``mg/dl`` and ``mmol/l`` are common)."""
    folded = text.strip().lower()
    for unit in UNITS:
        if unit.lower() == folded:
            return unit
    raise UnitError(f"unit {text!r} is neither mg/dL nor mmol/L")


def to_mg_dl(value: float, unit: Unit) -> int:
    """Whole mg/dL of a positive, finite value in ``unit``; raises UnitError."""
    if not math.isfinite(value) or value <= 0:
        raise UnitError(f"glucose {value!r} is not a positive number")
    if unit == "mmol/L":
        if value > MAX_PLAUSIBLE_MMOL_L:
            raise UnitError(
                f"glucose {value:g} mmol/L is implausible (> {MAX_PLAUSIBLE_MMOL_L:g}): "
                "is it mg/dL?"
            )
        mg_dl = mmol_l_to_mg_dl(value)
    else:
        mg_dl = round(value)
    if not 0 < mg_dl <= MAX_GLUCOSE_MG_DL:
        raise UnitError(f"glucose {value:g} {unit} is not within 1-{MAX_GLUCOSE_MG_DL} mg/dL")
    return mg_dl


def check_epoch_ms(value: int, field: str) -> None:
    """Reject epoch seconds sent where milliseconds belong (a known uploader mistake)."""
    if 0 < value < MIN_EPOCH_MS:
        raise UnitError(
            f"{field} {value} looks like seconds since the epoch; send milliseconds "
            f"({value * 1000})"
        )
    if value <= 0:
        raise UnitError(f"{field} {value} is not a time after 1970")
