"""``POST /v1/readings``: GlucoseStream's own JSON shape, validated item by item.

An item carries the contract's fields (``schemas/glucose_reading.v1.avsc``) with the glucose as a
value and a unit; the server sets ``event_id`` (from the reading's identity), ``produced_at`` and
the pseudonymous ``patient_id`` (keyed HMAC of the source id the client sends). One bad item does
not spoil the others: each is accepted or rejected with its index and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import (
    GlucoseReading,
    InvalidReading,
    ReadingSource,
    ReadingStatus,
    Trend,
    sensor_status,
)
from glucosestream.ingest.api.auth import Principal
from glucosestream.ingest.units import UnitError, check_epoch_ms, parse_unit, quoted, to_mg_dl

MAX_FUTURE_MS = 5 * 60_000
"""Device clocks drift a little; a reading further ahead than this has a wrong clock or zone.
The data-quality gate's ``future_tolerance_minutes`` (``sql/dq/checks.json``, a test keeps them
equal): a reading accepted further ahead would fail ``timestamps_out_of_bounds`` — and with it
every patient's marts, on every run — so it is refused here, where its sender hears why."""

StatusName = Literal["OK", "BELOW_SENSOR_RANGE", "ABOVE_SENSOR_RANGE", "WARMUP", "CALIBRATION"]
TrendName = Literal[
    "DOUBLE_UP",
    "SINGLE_UP",
    "FORTY_FIVE_UP",
    "FLAT",
    "FORTY_FIVE_DOWN",
    "SINGLE_DOWN",
    "DOUBLE_DOWN",
    "NOT_COMPUTABLE",
]
SourceName = Literal["CGM", "BGM", "IMPORT"]


class ReadingIn(BaseModel):
    """One reading as a client sends it to ``POST /v1/readings``."""

    model_config = ConfigDict(extra="forbid", strict=True, title="ReadingIn")

    patient_id: str = Field(
        min_length=1,
        max_length=256,
        description="The tenant's own (source) patient id; stored only as a keyed pseudonym.",
    )
    device_id: str = Field(min_length=1, max_length=128)
    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Sensor session; defaults to device_id.",
    )
    measured_at: int | str = Field(
        description="UTC epoch milliseconds, or ISO 8601 with a UTC offset "
        "(2026-01-05T08:30:00+01:00), or a local ISO 8601 time without one together with "
        "utc_offset_minutes."
    )
    utc_offset_minutes: int | None = Field(
        default=None,
        ge=-840,
        le=840,
        description="The device's local UTC offset; defaults to the offset of an ISO "
        "measured_at, else 0.",
    )
    glucose: float = Field(
        gt=0, le=10_000, allow_inf_nan=False, description="Glucose in the given unit."
    )
    unit: Literal["mg/dL", "mmol/L"] = Field(
        description="mg/dL or mmol/L, in any case (mg/dl and mmol/l are read as these)."
    )
    status: StatusName | None = Field(
        default=None, description="Defaults from the sensor range 40-400 mg/dL."
    )
    trend: TrendName = "NOT_COMPUTABLE"
    source: SourceName = "CGM"

    @field_validator("unit", mode="before")
    @classmethod
    def _unit_in_any_case(cls, value: Any) -> Any:
        """``mg/dl``, ``MMOL/L``: the unit as the CLI reads it; anything else is left for the
        literal's own refusal, which names the two units."""
        if isinstance(value, str):
            try:
                return parse_unit(value)
            except UnitError:
                return value
        return value


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Accepted:
    index: int
    reading: GlucoseReading


@dataclass(frozen=True)
class Validated:
    accepted: list[Accepted]
    rejected: list[Rejection]


class InvalidItem(ValueError):
    """An item whose fields are each valid but do not fit together; the message says why."""


def describe(error: ValidationError) -> str:
    """Pydantic's errors as one line: ``field: message; ...`` (input values left out)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "item"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _instant(value: int | str, offset_minutes: int | None) -> tuple[int, int | None]:
    """(UTC epoch ms, offset minutes if the text carried one).

    A naive ISO time is the device's wall clock: it is read in ``utc_offset_minutes`` when the
    item gives one, and refused otherwise — the API never guesses a zone (a wall-clock time in
    a daylight-saving zone can mean two instants, or none).
    """
    if isinstance(value, int):
        check_epoch_ms(value, "measured_at")
        return value, None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UnitError(f"measured_at {quoted(value)} is not ISO 8601") from None
    offset = moment.utcoffset()
    if offset is None:
        if offset_minutes is None:
            raise UnitError(
                "measured_at has no UTC offset: add Z or ±hh:mm, send utc_offset_minutes, "
                "or send epoch ms"
            )
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
        return round(moment.timestamp() * 1000), offset_minutes
    text_offset = int(offset.total_seconds() // 60)
    # A zero offset (Z, +00:00) writes the instant in UTC and says nothing of the device's zone
    # (JavaScript's toISOString, Python's UTC isoformat); any other offset is the device's local
    # offset, and a different utc_offset_minutes would silently move the reading's local time.
    if offset_minutes is not None and text_offset not in (0, offset_minutes):
        raise InvalidItem(
            f"utc_offset_minutes {offset_minutes} contradicts the {_offset_text(text_offset)} "
            "offset of measured_at: send one of them, or the same offset in both"
        )
    return round(moment.timestamp() * 1000), text_offset


def _offset_text(minutes: int) -> str:
    """``+01:00``, ``-05:30``: an offset as ISO 8601 writes it."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def reading_from_item(
    item: ReadingIn,
    principal: Principal,
    pseudonym_key: bytes,
    now_ms: int,
    pseudonyms: dict[str, str] | None = None,
) -> GlucoseReading:
    """The contract reading of a validated item; raises UnitError or InvalidReading.

    ``pseudonyms`` caches source id → pseudonym across the items of a request (a batch is
    usually one patient's, and the HMAC is a quarter of the validation time).
    """
    if principal.is_bare_prefix(item.patient_id):
        raise InvalidItem(
            f"patient_id {quoted(item.patient_id)} is the tenant prefix with no id after it"
        )
    if not principal.may_write(item.patient_id):
        raise PermissionError(f"tenant {principal.tenant} may not write this patient_id")
    measured_at, text_offset = _instant(item.measured_at, item.utc_offset_minutes)
    if measured_at > now_ms + MAX_FUTURE_MS:
        minutes = (measured_at - now_ms) // 60_000
        raise UnitError(f"measured_at is {minutes} minutes in the future: check the device clock")
    glucose = to_mg_dl(item.glucose, item.unit)
    offset = item.utc_offset_minutes
    if offset is None:
        offset = text_offset if text_offset is not None else 0
    status = ReadingStatus(item.status) if item.status else sensor_status(glucose)
    cache = pseudonyms if pseudonyms is not None else {}
    patient_id = cache.get(item.patient_id)
    if patient_id is None:
        patient_id = cache[item.patient_id] = pseudonymise(item.patient_id, pseudonym_key)
    return GlucoseReading(
        patient_id=patient_id,
        device_id=item.device_id,
        session_id=item.session_id or item.device_id,
        measured_at=measured_at,
        utc_offset_minutes=offset,
        glucose_mg_dl=glucose,
        status=status,
        trend=Trend(item.trend),
        source=ReadingSource(item.source),
        produced_at=now_ms,
    )


def validate_items(
    items: list[Any], principal: Principal, pseudonym_key: bytes, now_ms: int
) -> Validated:
    """Accept or reject each item of a ``POST /v1/readings`` body.

    Two items with one identity (patient, device, measured_at) are one reading: a later item
    that repeats an earlier accepted one exactly is accepted too (a resend within the request;
    sinks keep one copy), one that differs (another glucose, trend…) is refused, naming the
    earlier item — the stream would keep either, so neither value could be trusted.
    """
    accepted: list[Accepted] = []
    rejected: list[Rejection] = []
    pseudonyms: dict[str, str] = {}
    first_of_identity: dict[str, Accepted] = {}
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            rejected.append(Rejection(index, f"item is a {type(raw).__name__}, not an object"))
            continue
        try:
            item = ReadingIn.model_validate(raw)
            reading = reading_from_item(item, principal, pseudonym_key, now_ms, pseudonyms)
        except ValidationError as error:
            rejected.append(Rejection(index, describe(error)))
            continue
        except (UnitError, InvalidItem, InvalidReading, PermissionError) as error:
            rejected.append(Rejection(index, str(error)))
            continue
        earlier = first_of_identity.setdefault(reading.event_id, Accepted(index, reading))
        differing = _differing_fields(earlier.reading, reading)
        if differing:
            rejected.append(
                Rejection(
                    index,
                    f"conflicts with item {earlier.index}: same patient, device and measured_at, "
                    f"other {', '.join(differing)}",
                )
            )
        else:
            accepted.append(Accepted(index, reading))
    return Validated(accepted, rejected)


_COMPARED_FIELDS = {
    "glucose_mg_dl": "glucose",
    "status": "status",
    "trend": "trend",
    "source": "source",
    "session_id": "session_id",
    "utc_offset_minutes": "utc_offset_minutes",
}
"""The fields beside the identity that two items of one reading must agree on, with the name
the client sent each under."""


def _differing_fields(first: GlucoseReading, other: GlucoseReading) -> list[str]:
    return [
        sent_as
        for field, sent_as in _COMPARED_FIELDS.items()
        if getattr(first, field) != getattr(other, field)
    ]
