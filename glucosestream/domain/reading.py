"""The glucose reading as the event contract defines it (``schemas/glucose_reading.v1.avsc``).

Times are integers: UTC milliseconds since the epoch. The codec hands them over as such, so the
hot path never builds ``datetime`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from glucosestream.domain.identity import reading_event_id

SENSOR_MIN_MG_DL = 40
"""Lowest value CGM sensors report; below it they report 'LOW' (BELOW_SENSOR_RANGE)."""
SENSOR_MAX_MG_DL = 400
"""Highest value CGM sensors report; above it they report 'HIGH' (ABOVE_SENSOR_RANGE)."""
MG_DL_PER_MMOL_L = 18.016
"""Conversion factor, glucose molar mass 180.16 g/mol (Battelino 2019 uses 18)."""


class ReadingStatus(StrEnum):
    OK = "OK"
    BELOW_SENSOR_RANGE = "BELOW_SENSOR_RANGE"
    ABOVE_SENSOR_RANGE = "ABOVE_SENSOR_RANGE"
    WARMUP = "WARMUP"
    CALIBRATION = "CALIBRATION"


class Trend(StrEnum):
    DOUBLE_UP = "DOUBLE_UP"
    SINGLE_UP = "SINGLE_UP"
    FORTY_FIVE_UP = "FORTY_FIVE_UP"
    FLAT = "FLAT"
    FORTY_FIVE_DOWN = "FORTY_FIVE_DOWN"
    SINGLE_DOWN = "SINGLE_DOWN"
    DOUBLE_DOWN = "DOUBLE_DOWN"
    NOT_COMPUTABLE = "NOT_COMPUTABLE"


class ReadingSource(StrEnum):
    CGM = "CGM"
    BGM = "BGM"
    IMPORT = "IMPORT"


class InvalidReading(ValueError):
    """A reading that breaks the contract: the message says which field and why."""


def mmol_l_to_mg_dl(mmol_l: float) -> int:
    """Convert mmol/L to whole mg/dL: ``round(mmol_l * 18.016)``."""
    return round(mmol_l * MG_DL_PER_MMOL_L)


def sensor_status(glucose_mg_dl: int) -> ReadingStatus:
    """The status a sensor value earns from the sensor range alone (40-400 mg/dL inclusive)."""
    if glucose_mg_dl < SENSOR_MIN_MG_DL:
        return ReadingStatus.BELOW_SENSOR_RANGE
    if glucose_mg_dl > SENSOR_MAX_MG_DL:
        return ReadingStatus.ABOVE_SENSOR_RANGE
    return ReadingStatus.OK


@dataclass(frozen=True, slots=True)
class GlucoseReading:
    """One reading. Identity: (patient_id, device_id, measured_at)."""

    patient_id: str
    device_id: str
    session_id: str
    measured_at: int
    utc_offset_minutes: int
    glucose_mg_dl: int
    status: ReadingStatus
    trend: Trend
    source: ReadingSource
    produced_at: int
    event_id: str = ""

    def __post_init__(self) -> None:
        problems = contract_problems(self)
        if problems:
            raise InvalidReading("; ".join(problems))
        if not self.event_id:
            object.__setattr__(
                self,
                "event_id",
                reading_event_id(self.patient_id, self.device_id, self.measured_at),
            )

    @property
    def identity(self) -> tuple[str, str, int]:
        return (self.patient_id, self.device_id, self.measured_at)

    def to_record(self) -> dict[str, Any]:
        """The Avro record (enum values as their symbols)."""
        return {
            "event_id": self.event_id,
            "patient_id": self.patient_id,
            "device_id": self.device_id,
            "session_id": self.session_id,
            "measured_at": self.measured_at,
            "utc_offset_minutes": self.utc_offset_minutes,
            "glucose_mg_dl": self.glucose_mg_dl,
            "status": self.status.value,
            "trend": self.trend.value,
            "source": self.source.value,
            "produced_at": self.produced_at,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GlucoseReading:
        """Build from a decoded Avro record; raises InvalidReading on contract violations."""
        try:
            return cls(
                patient_id=record["patient_id"],
                device_id=record["device_id"],
                session_id=record["session_id"],
                measured_at=record["measured_at"],
                utc_offset_minutes=record["utc_offset_minutes"],
                glucose_mg_dl=record["glucose_mg_dl"],
                status=ReadingStatus(record["status"]),
                trend=Trend(record["trend"]),
                source=ReadingSource(record["source"]),
                produced_at=record["produced_at"],
                event_id=record.get("event_id", ""),
            )
        except KeyError as missing:
            raise InvalidReading(f"missing field {missing}") from None
        except ValueError as bad:
            raise InvalidReading(str(bad)) from None


MAX_UTC_OFFSET_MINUTES = 14 * 60
"""Real UTC offsets lie within -12:00 .. +14:00."""
MAX_TIMESTAMP_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z."""
MAX_GLUCOSE_MG_DL = 10_000
"""Far above anything physiological; keeps the value a valid Avro int."""
_INTEGER_FIELDS = ("measured_at", "utc_offset_minutes", "glucose_mg_dl", "produced_at")


def timestamp_problems(values: dict[str, Any]) -> list[str]:
    """What is wrong with contract timestamps (UTC epoch milliseconds, 1970-9999), by name."""
    problems = []
    for name, value in values.items():
        if type(value) is not int:
            problems.append(f"{name} must be an integer")
        elif not 0 <= value <= MAX_TIMESTAMP_MS:
            problems.append(f"{name} must lie between 1970 and 9999")
    return problems


def contract_problems(reading: GlucoseReading) -> list[str]:
    """Every way the reading breaks the contract (empty when it is valid).

    A value outside the sensor range is valid only when its status says so: values are flagged,
    never clipped silently.
    """
    problems = [
        f"{name} must be a non-empty string"
        for name in ("patient_id", "device_id", "session_id")
        if not isinstance(getattr(reading, name), str) or not getattr(reading, name)
    ]
    wrong_types = [
        f"{name} must be an integer, got {type(getattr(reading, name)).__name__}"
        for name in _INTEGER_FIELDS
        if type(getattr(reading, name)) is not int
    ]
    if wrong_types:
        return problems + wrong_types  # the range checks below assume integers
    for name, enum in (("status", ReadingStatus), ("trend", Trend), ("source", ReadingSource)):
        if not isinstance(getattr(reading, name), enum):
            problems.append(f"{name} must be a {enum.__name__}, got {getattr(reading, name)!r}")
    if not 0 <= reading.measured_at <= MAX_TIMESTAMP_MS or not (
        0 <= reading.produced_at <= MAX_TIMESTAMP_MS
    ):
        problems.append("timestamps must lie between 1970 and 9999")
    if not -MAX_UTC_OFFSET_MINUTES <= reading.utc_offset_minutes <= MAX_UTC_OFFSET_MINUTES:
        problems.append(f"utc_offset_minutes {reading.utc_offset_minutes} is outside ±840")
    if not 0 < reading.glucose_mg_dl <= MAX_GLUCOSE_MG_DL:
        problems.append(f"glucose_mg_dl {reading.glucose_mg_dl} is not within 1-10000")
    range_status = sensor_status(reading.glucose_mg_dl)
    if range_status is not ReadingStatus.OK and reading.status is not range_status:
        problems.append(
            f"glucose_mg_dl {reading.glucose_mg_dl} is outside the sensor range "
            f"{SENSOR_MIN_MG_DL}-{SENSOR_MAX_MG_DL} but status is {reading.status}, "
            f"expected {range_status}"
        )
    if (
        reading.status is ReadingStatus.BELOW_SENSOR_RANGE
        and reading.glucose_mg_dl > SENSOR_MIN_MG_DL
    ):
        problems.append(
            f"status BELOW_SENSOR_RANGE with glucose_mg_dl {reading.glucose_mg_dl} > 40"
        )
    if (
        reading.status is ReadingStatus.ABOVE_SENSOR_RANGE
        and reading.glucose_mg_dl < SENSOR_MAX_MG_DL
    ):
        problems.append(
            f"status ABOVE_SENSOR_RANGE with glucose_mg_dl {reading.glucose_mg_dl} < 400"
        )
    return problems
