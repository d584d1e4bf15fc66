"""The erasure of a reading as the event contract defines it
(``schemas/glucose_reading_erasure.v1.avsc``): a Nightscout ``DELETE`` of an entry, carried to
the lake, where curated readings leave out every copy of the reading produced at or before
``erased_at`` (``sql/staging/readings.sql``). Times are UTC epoch milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glucosestream.domain.reading import timestamp_problems

_TIMESTAMPS = ("measured_at", "erased_at", "produced_at")


class InvalidErasure(ValueError):
    """An erasure that breaks the contract: the message says which field and why."""


@dataclass(frozen=True, slots=True)
class ReadingErasure:
    """The erasure of the reading (patient_id, device_id, measured_at)."""

    patient_id: str
    device_id: str
    measured_at: int
    erased_at: int
    requested_by: str
    produced_at: int

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be a non-empty string"
            for name in ("patient_id", "device_id", "requested_by")
            if not isinstance(getattr(self, name), str) or not getattr(self, name)
        ]
        problems += timestamp_problems({name: getattr(self, name) for name in _TIMESTAMPS})
        if problems:
            raise InvalidErasure("; ".join(problems))

    def to_record(self) -> dict[str, Any]:
        """The Avro record."""
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ReadingErasure:
        """Build from a decoded Avro record; raises InvalidErasure on contract violations."""
        try:
            return cls(**{name: record[name] for name in cls.__slots__})
        except KeyError as missing:
            raise InvalidErasure(f"missing field {missing}") from None
