"""An insulin or carbohydrate treatment as the event contract defines it
(``schemas/glucose_treatment.v1.avsc``).

A treatment changes over time: an uploader edits it (xDrip+'s PUT, AndroidAPS's PATCH) or
deletes it. Each change is one record, a *version*; its identity is (patient_id, treatment_id)
and the version with the latest ``modified_at`` is the treatment (``is_valid`` false: deleted).
Times are integers, UTC milliseconds since the epoch, as for readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glucosestream.domain.reading import MAX_UTC_OFFSET_MINUTES, timestamp_problems

INSULIN_UNITS_RANGE = (0.0, 100.0)
"""Insulin a pump or a pen can give at once, in units (U); anything outside is a unit mix-up."""
CARBS_G_RANGE = (0.0, 1000.0)
"""Carbohydrate one person can record at once, in grams."""
_TIMESTAMPS = ("treated_at", "modified_at", "produced_at")


class InvalidTreatment(ValueError):
    """A treatment that breaks the contract: the message says which field and why."""


@dataclass(frozen=True, slots=True)
class GlucoseTreatment:
    """One version of a treatment. Identity: (patient_id, treatment_id)."""

    treatment_id: str
    patient_id: str
    event_type: str
    treated_at: int
    utc_offset_minutes: int
    insulin_units: float | None
    carbs_g: float | None
    entered_by: str | None
    is_valid: bool
    modified_at: int
    produced_at: int

    def __post_init__(self) -> None:
        problems = treatment_problems(self)
        if problems:
            raise InvalidTreatment("; ".join(problems))

    @property
    def identity(self) -> tuple[str, str]:
        return (self.patient_id, self.treatment_id)

    def to_record(self) -> dict[str, Any]:
        """The Avro record."""
        return {
            "treatment_id": self.treatment_id,
            "patient_id": self.patient_id,
            "event_type": self.event_type,
            "treated_at": self.treated_at,
            "utc_offset_minutes": self.utc_offset_minutes,
            "insulin_units": self.insulin_units,
            "carbs_g": self.carbs_g,
            "entered_by": self.entered_by,
            "is_valid": self.is_valid,
            "modified_at": self.modified_at,
            "produced_at": self.produced_at,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GlucoseTreatment:
        """Build from a decoded Avro record; raises InvalidTreatment on contract violations."""
        try:
            return cls(**{name: record[name] for name in cls.__slots__})
        except KeyError as missing:
            raise InvalidTreatment(f"missing field {missing}") from None


def treatment_problems(treatment: GlucoseTreatment) -> list[str]:
    """Every way the treatment breaks the contract (empty when it is valid)."""
    problems = [
        f"{name} must be a non-empty string"
        for name in ("treatment_id", "patient_id")
        if not isinstance(getattr(treatment, name), str) or not getattr(treatment, name)
    ]
    if not isinstance(treatment.event_type, str):
        problems.append("event_type must be a string")
    if treatment.entered_by is not None and not isinstance(treatment.entered_by, str):
        problems.append("entered_by must be a string or null")
    if type(treatment.is_valid) is not bool:
        problems.append("is_valid must be a boolean")
    problems += timestamp_problems({name: getattr(treatment, name) for name in _TIMESTAMPS})
    if type(treatment.utc_offset_minutes) is not int:
        problems.append("utc_offset_minutes must be an integer")
    if problems:
        return problems  # the range checks below assume the types
    if not -MAX_UTC_OFFSET_MINUTES <= treatment.utc_offset_minutes <= MAX_UTC_OFFSET_MINUTES:
        problems.append(f"utc_offset_minutes {treatment.utc_offset_minutes} is outside ±840")
    for name, (low, high), unit in (
        ("insulin_units", INSULIN_UNITS_RANGE, "U"),
        ("carbs_g", CARBS_G_RANGE, "g"),
    ):
        value = getattr(treatment, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{name} must be a number of {unit} or null")
        elif not low <= value <= high:
            problems.append(f"{name} {value} is out of range ({low:g}-{high:g} {unit})")
    return problems
