"""Alert kinds, the readings the engine sees, and the alerts it raises."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from glucosestream.domain.identity import alert_id


class AlertKind(StrEnum):
    URGENT_LOW = "URGENT_LOW"
    LOW = "LOW"
    URGENT_LOW_SOON = "URGENT_LOW_SOON"
    RECOVERED = "RECOVERED"
    HIGH = "HIGH"


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    WARNING = "WARNING"
    INFO = "INFO"


SEVERITY = {
    AlertKind.URGENT_LOW: Severity.CRITICAL,
    AlertKind.URGENT_LOW_SOON: Severity.CRITICAL,
    AlertKind.LOW: Severity.WARNING,
    AlertKind.HIGH: Severity.WARNING,
    AlertKind.RECOVERED: Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class AlertReading:
    """What the engine needs of a reading: when it was measured and when it arrived."""

    measured_at: int
    glucose_mg_dl: int
    arrived_at: int
    device_id: str = ""
    utc_offset_minutes: int = 0

    @property
    def key(self) -> tuple[int, str]:
        return (self.measured_at, self.device_id)

    def lateness_ms(self) -> int:
        return self.arrived_at - self.measured_at


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule's finding at one reading; the engine decides whether it pages."""

    kind: AlertKind
    episode_start: int
    reading: AlertReading
    rate_mg_dl_per_min: float | None = None
    projected_mg_dl: float | None = None
    repeat: int = 0
    """0: the episode's first page of this kind; n: its n-th repeat."""


@dataclass(frozen=True, slots=True)
class PagedAlert:
    """The engine's record of an alert it raised (kept ~24 h, to page each episode once)."""

    kind: AlertKind
    episode_start: int
    measured_at: int
    alert_id: str
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Someone acknowledged a raised alert: an acknowledged URGENT_LOW episode stops repeating."""

    alert_id: str
    acknowledged_at: int
    """UTC ms."""
    by: str
    """Who acknowledged (free text from the caller: an API key id, a dashboard user)."""

    def to_list(self) -> list[Any]:
        return [self.alert_id, self.acknowledged_at, self.by]

    @classmethod
    def from_list(cls, value: list[Any]) -> Acknowledgement:
        alert, at, by = value
        return cls(str(alert), int(at), str(by))


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert to page (the ``glucose_alert.v1`` contract)."""

    alert_id: str
    patient_id: str
    kind: AlertKind
    severity: Severity
    measured_at: int
    utc_offset_minutes: int
    glucose_mg_dl: int
    episode_start: int
    rate_mg_dl_per_min: float | None
    projected_mg_dl: float | None
    raised_at: int
    repeat: int = 0
    """0 for the first page of the episode; n for the n-th repeat of an unacknowledged alert."""
    silenced: bool = False
    """Raised during the patient's quiet hours: recorded and shown, not paged."""

    @classmethod
    def from_candidate(
        cls, patient_id: str, candidate: Candidate, raised_at: int, *, silenced: bool = False
    ) -> Alert:
        reading = candidate.reading
        return cls(
            alert_id=alert_id(
                patient_id, candidate.kind.value, candidate.episode_start, candidate.repeat
            ),
            patient_id=patient_id,
            kind=candidate.kind,
            severity=SEVERITY[candidate.kind],
            measured_at=reading.measured_at,
            utc_offset_minutes=reading.utc_offset_minutes,
            glucose_mg_dl=reading.glucose_mg_dl,
            episode_start=candidate.episode_start,
            rate_mg_dl_per_min=_rounded(candidate.rate_mg_dl_per_min),
            projected_mg_dl=_rounded(candidate.projected_mg_dl),
            raised_at=raised_at,
            repeat=candidate.repeat,
            silenced=silenced,
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "patient_id": self.patient_id,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "measured_at": self.measured_at,
            "utc_offset_minutes": self.utc_offset_minutes,
            "glucose_mg_dl": self.glucose_mg_dl,
            "episode_start": self.episode_start,
            "rate_mg_dl_per_min": self.rate_mg_dl_per_min,
            "projected_mg_dl": self.projected_mg_dl,
            "raised_at": self.raised_at,
            "repeat": self.repeat,
            "silenced": self.silenced,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Alert:
        return cls(
            **{
                **record,
                "kind": AlertKind(record["kind"]),
                "severity": Severity(record["severity"]),
            }
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
