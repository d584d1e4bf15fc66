"""Nightscout compatibility: entries in, entries and status out (Nightscout API v1).

An sgv entry as uploaders (xDrip+, Loop, AndroidAPS, bridges) post it::

    {"type": "sgv", "sgv": 112, "date": 1767598200000,
     "dateString": "2026-01-05T08:30:00.000+01:00", "direction": "Flat",
     "device": "xDrip-DexcomG6", "noise": 1, "utcOffset": 60}

``date`` is epoch milliseconds (seconds are a known uploader mistake and are refused with a
reason); ``sgv`` is mg/dL; 39 means LOW and whole values 0-38 are Dexcom error codes, not glucose
(:class:`NotGlucose`); a negative value is neither.
``mbg`` entries (meter) become BGM readings of the device's meter (``<device> meter``: a sensor
and a meter value at one ``date`` are two readings); ``cal`` entries carry no glucose and are
skipped.
``noise`` has no field in the contract and is not kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from glucosestream.domain.identity import pseudonymise, reading_event_id
from glucosestream.domain.reading import (
    GlucoseReading,
    InvalidReading,
    ReadingSource,
    Trend,
    sensor_status,
)
from glucosestream.ingest.api.readings import MAX_FUTURE_MS, Accepted, Rejection, Validated
from glucosestream.ingest.units import UnitError, check_epoch_ms, quoted

DIRECTIONS: dict[str, Trend] = {
    # The contract's trend has no triple arrow (more than 3 mg/dL/min, AndroidAPS and
    # Nightscout's direction plugin send it): the double arrow is the nearest, and still says
    # "fastest" to a reader of the contract. Answered as DoubleUp/DoubleDown afterwards.
    "TripleUp": Trend.DOUBLE_UP,
    "DoubleUp": Trend.DOUBLE_UP,
    "SingleUp": Trend.SINGLE_UP,
    "FortyFiveUp": Trend.FORTY_FIVE_UP,
    "Flat": Trend.FLAT,
    "FortyFiveDown": Trend.FORTY_FIVE_DOWN,
    "SingleDown": Trend.SINGLE_DOWN,
    "DoubleDown": Trend.DOUBLE_DOWN,
    "TripleDown": Trend.DOUBLE_DOWN,
    "NOT COMPUTABLE": Trend.NOT_COMPUTABLE,
    "NOT_COMPUTABLE": Trend.NOT_COMPUTABLE,
    "RATE OUT OF RANGE": Trend.NOT_COMPUTABLE,
    "NONE": Trend.NOT_COMPUTABLE,
    "None": Trend.NOT_COMPUTABLE,
}
"""Nightscout's direction names (and the aliases uploaders send) → the contract's trend."""
TREND_NUMBERS: dict[int, Trend] = {
    0: Trend.NOT_COMPUTABLE,  # NONE in Dexcom Share and Nightscout: no arrow
    1: Trend.DOUBLE_UP,
    2: Trend.SINGLE_UP,
    3: Trend.FORTY_FIVE_UP,
    4: Trend.FLAT,
    5: Trend.FORTY_FIVE_DOWN,
    6: Trend.SINGLE_DOWN,
    7: Trend.DOUBLE_DOWN,
    8: Trend.NOT_COMPUTABLE,
    9: Trend.NOT_COMPUTABLE,
}
"""Dexcom's numeric ``trend`` (0-9), used when an entry has no ``direction``."""
DIRECTION_OF: dict[Trend, str] = {
    Trend.DOUBLE_UP: "DoubleUp",
    Trend.SINGLE_UP: "SingleUp",
    Trend.FORTY_FIVE_UP: "FortyFiveUp",
    Trend.FLAT: "Flat",
    Trend.FORTY_FIVE_DOWN: "FortyFiveDown",
    Trend.SINGLE_DOWN: "SingleDown",
    Trend.DOUBLE_DOWN: "DoubleDown",
    Trend.NOT_COMPUTABLE: "NOT COMPUTABLE",
}
MAX_DEVICE_ID = 128
METER_SUFFIX = " meter"
"""Appended to a meter (``mbg``) reading's device in the contract: a fingerstick comes from a
meter, not from the CGM the uploader names, and without it a sensor and a meter value of one
upload at the same ``date`` would share one identity (patient, device, measured_at) and
overwrite each other. Nightscout keeps both (it deduplicates on date and type)."""
LOWEST_SGV = 39
"""Nightscout/xDrip+ send 39 for the sensor's LOW; smaller values are Dexcom error codes."""
NIGHTSCOUT_VERSION = "15.0.2"
"""The Nightscout version we answer as; uploaders check the major version only."""


class EntryIn(BaseModel):
    """A Nightscout entry as uploaders post it (documentation model; extra keys are allowed)."""

    model_config = ConfigDict(extra="allow", title="NightscoutEntry")

    type: str = Field(default="sgv", description="sgv, mbg or cal")
    sgv: float | None = Field(
        default=None, description="sensor glucose, mg/dL (a fraction is rounded half up)"
    )
    mbg: float | None = Field(
        default=None, description="meter glucose, mg/dL (a fraction is rounded half up)"
    )
    date: int | None = Field(default=None, description="epoch milliseconds")
    dateString: str | None = Field(default=None, description="ISO 8601")  # noqa: N815
    direction: str | None = None
    trend: int | None = None
    device: str | None = None
    noise: int | None = None
    utcOffset: int | None = None  # noqa: N815


class EntryOut(BaseModel):
    """An entry as ``GET /api/v1/entries.json`` returns it."""

    model_config = ConfigDict(title="NightscoutEntryOut")

    id: str = Field(alias="_id", description="the reading's event_id")
    type: str = Field(description="sgv (sensor) or mbg (meter)")
    sgv: int | None = Field(default=None, description="sensor glucose, mg/dL (sgv entries)")
    mbg: int | None = Field(default=None, description="meter glucose, mg/dL (mbg entries)")
    date: int
    dateString: str  # noqa: N815
    sysTime: str  # noqa: N815
    direction: str | None = Field(default=None, description="the trend arrow (sgv entries)")
    device: str
    utcOffset: int  # noqa: N815
    delta: int


@dataclass(frozen=True, slots=True)
class Skipped:
    index: int
    reason: str


class EntryError(ValueError):
    """An entry that cannot become a reading; the message says why."""


class NotGlucose(EntryError):
    """An entry that by design holds no glucose: a Dexcom error code in ``sgv``. The API refuses
    it like any other EntryError; a file import skips and counts it, since real Nightscout data
    holds such entries (Nightscout's errorcodes plugin shows them as ?SN, ?NA, ???, ...), while
    any other refused entry means the file is damaged."""


DEXCOM_ERROR_CODE = (
    "sgv under 39: a Dexcom error code (sensor not ready, no antenna, ...), not a glucose value"
)
"""The reason a file import gives for skipping :class:`NotGlucose` entries, one for all codes."""


def _number(entry: dict[str, Any], name: str) -> int | float | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EntryError(f"{name} must be a number, got {type(value).__name__}")
    return value


def _integer(entry: dict[str, Any], name: str) -> int | None:
    value = _number(entry, name)
    if isinstance(value, float):
        if not value.is_integer():
            raise EntryError(f"{name} must be a whole number")
        return int(value)
    return value


def _glucose(entry: dict[str, Any], name: str) -> int | None:
    """An entry's glucose in whole mg/dL. A fractional value is rounded half up: xDrip+ sends a
    meter reading converted from mmol/L as a double (5.8 mmol/L is 104.5 mg/dL), and the
    contract's unit is whole mg/dL; the rounding (at most 0.5 mg/dL) is below any meter's or
    sensor's resolution."""
    value = _number(entry, name)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EntryError(f"{name} must be a finite number")
        return math.floor(value + 0.5)
    return value


MAX_OFFSET_MINUTES = 840
"""UTC offsets in use span -12:00 to +14:00."""


def _time(entry: dict[str, Any]) -> tuple[int, int | None]:
    """(epoch ms, offset minutes from dateString if it has one).

    ``date`` (epoch ms) wins when present. Without it, a ``dateString`` with an offset is used;
    a naive one only together with ``utcOffset`` (the uploader's own offset) — never guessed.
    """
    date = _integer(entry, "date")
    text = entry.get("dateString")
    text_offset: int | None = None
    parsed_ms: int | None = None
    if isinstance(text, str) and text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            if date is None:
                raise EntryError(f"dateString {quoted(text)} is not ISO 8601") from None
        else:
            offset = moment.utcoffset()
            if offset is not None:
                text_offset = int(offset.total_seconds() // 60)
                parsed_ms = round(moment.timestamp() * 1000)
            elif date is None and (declared := _integer(entry, "utcOffset")) is not None:
                if not -MAX_OFFSET_MINUTES <= declared <= MAX_OFFSET_MINUTES:
                    raise EntryError(f"utcOffset {declared} is not within ±14 hours")
                local = moment.replace(tzinfo=timezone(timedelta(minutes=declared)))
                text_offset, parsed_ms = declared, round(local.timestamp() * 1000)
    if date is not None:
        try:
            check_epoch_ms(date, "date")
        except UnitError as error:
            raise EntryError(str(error)) from None
        return date, text_offset
    if parsed_ms is None:
        raise EntryError(
            "entry has no date (epoch ms) and no dateString with a UTC offset (or utcOffset)"
        )
    return parsed_ms, text_offset


def _trend(entry: dict[str, Any]) -> Trend:
    direction = entry.get("direction")
    if direction is not None and direction != "":
        if not isinstance(direction, str) or direction not in DIRECTIONS:
            raise EntryError(
                f"direction {quoted(direction)} is not one of {', '.join(sorted(set(DIRECTIONS)))}"
            )
        return DIRECTIONS[direction]
    number = _integer(entry, "trend")
    if number is None:
        return Trend.NOT_COMPUTABLE
    if number not in TREND_NUMBERS:
        raise EntryError(f"trend {number} is not a Dexcom trend number 0-9")
    return TREND_NUMBERS[number]


def reading_from_entry(
    entry: dict[str, Any],
    source_patient_id: str,
    pseudonym_key: bytes,
    now_ms: int,
    default_device: str = "nightscout",
) -> GlucoseReading | None:
    """The reading of an entry, None for entries that carry no glucose (``cal``).

    Raises EntryError (or InvalidReading) with the reason an entry is refused.
    """
    kind = entry.get("type", "sgv")
    if kind == "cal":
        return None
    if kind not in ("sgv", "mbg"):
        raise EntryError(f"type {quoted(kind)} is not sgv, mbg or cal")
    value = _glucose(entry, kind)
    if value is None:
        raise EntryError(f"{kind} entry has no {kind} value")
    sent = entry[kind]
    if sent < 0:
        raise EntryError(f"{kind} {sent} is negative: not a glucose value")
    if value < LOWEST_SGV:
        # Error codes are whole numbers a sensor sends in sgv; 5.5 or a meter's 30 is no code.
        if kind == "sgv" and float(sent).is_integer():
            raise NotGlucose(
                f"sgv {sent} is below 39: a Dexcom error code (sensor not ready, no antenna, "
                "...), not a glucose value"
            )
        raise EntryError(f"{kind} {sent} is below 39 and not a Dexcom error code (a whole sgv)")
    measured_at, text_offset = _time(entry)
    if measured_at > now_ms + MAX_FUTURE_MS:
        raise EntryError(
            f"date is {(measured_at - now_ms) // 60_000} minutes in the future: "
            "check the uploader's clock"
        )
    offset = _integer(entry, "utcOffset")
    if offset is None:
        offset = text_offset if text_offset is not None else 0
    device = entry.get("device")
    named = device if isinstance(device, str) and device.strip() else default_device
    device_id = reading_device_id(named, kind)
    return GlucoseReading(
        patient_id=pseudonymise(source_patient_id, pseudonym_key),
        device_id=device_id,
        session_id=device_id,
        measured_at=measured_at,
        utc_offset_minutes=offset,
        glucose_mg_dl=value,
        status=sensor_status(value),
        trend=_trend(entry) if kind == "sgv" else Trend.NOT_COMPUTABLE,
        source=ReadingSource.CGM if kind == "sgv" else ReadingSource.BGM,
        produced_at=now_ms,
    )


def reading_device_id(device: str, kind: str) -> str:
    """The contract's device_id of an entry the uploader says came from ``device``: the device
    itself for a sensor value, its meter (:data:`METER_SUFFIX`) for an ``mbg`` entry."""
    if kind != "mbg":
        return device.strip()[:MAX_DEVICE_ID]
    return device.strip()[: MAX_DEVICE_ID - len(METER_SUFFIX)] + METER_SUFFIX


def sent_device(device_id: str, source: ReadingSource) -> str:
    """The ``device`` an entry answers: what the uploader sent, so a meter reading's device
    without the contract's :data:`METER_SUFFIX`."""
    if source is ReadingSource.BGM and device_id.endswith(METER_SUFFIX):
        return device_id.removesuffix(METER_SUFFIX)
    return device_id


def erased_device_id(patient_id: str, entry: dict[str, Any]) -> str:
    """The contract's device_id of an answered entry, for its erasure. A meter entry is the
    reading of its meter (:func:`reading_device_id`), unless it was stored before meter
    readings had their own device: then its ``_id`` is the event id of the device as sent."""
    device = str(entry["device"])
    if entry.get("type") != "mbg":
        return device
    if entry.get("_id") == reading_event_id(patient_id, device, int(entry["date"])):
        return device
    return reading_device_id(device, "mbg")


def validate_entries(
    entries: list[Any], source_patient_id: str, pseudonym_key: bytes, now_ms: int
) -> tuple[Validated, list[Skipped]]:
    """Accepted readings, rejected entries (with reasons) and skipped ``cal`` entries."""
    accepted: list[Accepted] = []
    rejected: list[Rejection] = []
    skipped: list[Skipped] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            rejected.append(Rejection(index, f"entry is a {type(entry).__name__}, not an object"))
            continue
        try:
            reading = reading_from_entry(entry, source_patient_id, pseudonym_key, now_ms)
        except (EntryError, InvalidReading) as error:
            rejected.append(Rejection(index, str(error)))
            continue
        if reading is None:
            skipped.append(Skipped(index, "cal entries carry no glucose"))
        else:
            accepted.append(Accepted(index, reading))
    return Validated(accepted, rejected), skipped


def date_runs(dates: Iterable[int], max_gap_ms: int) -> list[tuple[int, int]]:
    """Sorted ``dates`` as (first, last) runs whose neighbours are at most ``max_gap_ms``
    apart: one store Query a run reads what lies between a batch's readings and no more (a
    day's backfill is one run; ten readings spread over two weeks are ten)."""
    runs: list[tuple[int, int]] = []
    for date in sorted(set(dates)):
        if runs and date - runs[-1][1] <= max_gap_ms:
            runs[-1] = (runs[-1][0], date)
        else:
            runs.append((date, date))
    return runs


def copies_of_stored_readings(
    readings: Sequence[GlucoseReading], stored: Iterable[dict[str, Any]]
) -> list[str | None]:
    """For each sensor reading of a batch, the ``_id`` of the entry that already holds it when
    another uploader's is stored (or an earlier item of the batch holds it), else None.

    Nightscout keeps one entry of a ``date`` and ``type`` (its upsert on ``sysTime`` and
    ``type``): xDrip+ and AndroidAPS uploading the same Dexcom reading are one entry, not one
    per uploader's ``device``. A reading whose own identity is stored is its uploader's resend
    (None: handled as before). ``stored``: the stored entries at the readings' dates. Meter
    values are left alone (None)."""
    stored_ids = set()
    holder: dict[int, tuple[int, str]] = {}
    """A date's sgv entry: the first stored (lowest srvModified), then the batch's first."""
    for entry in stored:
        if entry.get("type") != "sgv":
            continue
        stored_ids.add(entry["_id"])
        rank = (int(entry.get("srvModified") or 0), str(entry["_id"]))
        date = int(entry["date"])
        if date not in holder or rank < holder[date]:
            holder[date] = rank
    found: list[str | None] = []
    for reading in readings:
        if reading.source is not ReadingSource.CGM or reading.event_id in stored_ids:
            found.append(None)
            continue
        held = holder.get(reading.measured_at)
        if held is None:
            holder[reading.measured_at] = (-1, reading.event_id)  # the batch's first keeps it
            found.append(None)
        else:
            found.append(held[1])
    return found


def _iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry_of(reading: GlucoseReading, previous: GlucoseReading | None) -> dict[str, Any]:
    """A reading as a Nightscout sgv entry; ``delta`` against the previous reading (0 if none)."""
    delta = reading.glucose_mg_dl - previous.glucose_mg_dl if previous is not None else 0
    entry = reading_entry(
        reading.event_id,
        reading.source,
        reading.glucose_mg_dl,
        reading.measured_at,
        reading.trend,
        reading.device_id,
        reading.utc_offset_minutes,
    )
    return {**entry, "delta": delta}


def reading_entry(
    event_id: str,
    source: ReadingSource,
    glucose_mg_dl: int,
    measured_at_ms: int,
    trend: Trend,
    device_id: str,
    utc_offset_minutes: int,
) -> dict[str, Any]:
    """A reading's fields as the Nightscout entry the read path stores (no ``delta``: it
    depends on the neighbours, :func:`with_deltas`). A meter reading is an ``mbg`` entry, its
    value in ``mbg`` and without a direction, as Nightscout keeps what meters upload: clients
    (Nightscout's reports, followers) tell a meter value from a sensor one by the field."""
    time = {"date": measured_at_ms, "dateString": _iso(measured_at_ms)}
    kind: dict[str, Any]
    if source is ReadingSource.BGM:
        kind = {"type": "mbg", "mbg": glucose_mg_dl, **time}
    else:
        kind = {"type": "sgv", "sgv": glucose_mg_dl, **time, "direction": DIRECTION_OF[trend]}
    return {
        "_id": event_id,
        **kind,
        "sysTime": _iso(measured_at_ms),
        "device": sent_device(device_id, source),
        "utcOffset": utc_offset_minutes,
    }


def answered_entry(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored entry as it is answered. Meter entries stored before they kept their value in
    ``mbg`` (``{"type": "mbg", "sgv": 105, "direction": "NOT COMPUTABLE"}``) read as the
    ``mbg`` entries stored now; every other entry is answered as stored."""
    if stored.get("type") != "mbg" or "mbg" in stored or "sgv" not in stored:
        return stored
    answered = {k: v for k, v in stored.items() if k not in ("sgv", "direction")}
    return {**answered, "mbg": stored["sgv"]}


def entries_of(newest_first: list[GlucoseReading], count: int) -> list[dict[str, Any]]:
    """The first ``count`` of newest-first readings as entries (one extra gives the last delta)."""
    return [
        entry_of(reading, newest_first[i + 1] if i + 1 < len(newest_first) else None)
        for i, reading in enumerate(newest_first[:count])
    ]


def stored_entry(reading: GlucoseReading) -> dict[str, Any]:
    """The entry as the read path stores it: without ``delta``, which depends on its neighbours
    and is computed when read (:func:`with_deltas`)."""
    entry = entry_of(reading, None)
    del entry["delta"]
    return entry


def with_deltas(
    newest_first: list[dict[str, Any]], older: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Stored entries with ``delta`` against the entry after each (the next older one; ``older``
    after the last), 0 where there is none. A meter (``mbg``) entry's delta is 0 and it is
    skipped as a neighbour: deltas are between sensor values. Entries are answered as
    :func:`answered_entry` makes them."""
    sensor = [e for e in [*newest_first, *([older] if older else [])] if e["type"] == "sgv"]
    previous_of = {id(a): b for a, b in pairwise(sensor)}
    answered = []
    for entry in newest_first:
        before = previous_of.get(id(entry))
        delta = entry["sgv"] - before["sgv"] if before is not None else 0
        answered.append({**answered_entry(entry), "delta": delta})
    return answered


def status_document(now_ms: int, name: str = "GlucoseStream") -> dict[str, Any]:
    """``GET /api/v1/status.json``: what uploaders' connection checks read."""
    return {
        "status": "ok",
        "name": name,
        "version": NIGHTSCOUT_VERSION,
        "serverTime": _iso(now_ms),
        "serverTimeEpoch": now_ms,
        "apiEnabled": True,
        "careportalEnabled": True,  # treatments are accepted and stored
        "boluscalcEnabled": False,
        "settings": {
            "units": "mg/dl",
            "enable": ["careportal", "devicestatus", "treatments"],
            # Clients colour and alarm by these (Nightscout's names); ours are the consensus
            # targets: 70-180 in range, < 54 level 2, > 250 level 2 high (Battelino 2019).
            "thresholds": {"bgHigh": 250, "bgTargetTop": 180, "bgTargetBottom": 70, "bgLow": 54},
            "alarmUrgentLow": True,
            "alarmLow": True,
            "alarmHigh": False,
            "timeFormat": 24,
            "authDefaultRoles": "denied",  # nothing is readable without a secret or token
        },
        "extendedSettings": {},
        "authorized": None,
    }
