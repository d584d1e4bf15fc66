"""Nightscout treatments and device status as uploaders post them (xDrip+, AndroidAPS, Loop).

A treatment (bolus, carbs, temp basal, note, site change...) or a device-status document
(pump, loop, uploader battery) is kept as sent, with three fields set as Nightscout sets them:
``_id``, ``created_at`` (UTC ISO with milliseconds) and ``mills`` (epoch ms). ``_id`` is the
sender's ``_id`` or ``identifier``; without one, a treatment's is its time and event type
(:func:`treatment_identifier`), as Nightscout's upsert on ``{created_at, eventType}``: a resend
that differs in any other field replaces the treatment instead of adding a second one (carbs or
insulin counted twice); a device status's is a hash of its content (Nightscout v1 inserts every
device status; an identical resend is still one document). Its time is
``created_at`` (ISO 8601 with an offset), or ``date``/``mills`` (epoch ms), or the server's
clock when it has none, as Nightscout does.

Refused, with the item's index and the reason: anything but a JSON object, a document over
16 KiB, a time without an offset or in the future (a treatment: more than
:data:`MAX_FUTURE_TREATMENT_MS` ahead, for planned carbs), ``insulin`` outside 0-100 U, ``carbs``
outside 0-1000 g. As for entries, the good documents of a batch are kept and the refused ones
listed in the ``X-Rejected`` header (a 4xx would make the uploader resend the good ones forever);
a batch with nothing good is 400.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from glucosestream.domain.reading import MAX_UTC_OFFSET_MINUTES
from glucosestream.domain.treatment import GlucoseTreatment
from glucosestream.ingest.api.documents import Document
from glucosestream.ingest.api.readings import Rejection
from glucosestream.ingest.nightscout_find import iso_utc

MAX_DOCUMENT_BYTES = 16 * 1024
MAX_FUTURE_DOCUMENT_MS = 15 * 60_000
"""How far ahead a device status, profile or food may be: an uploader phone's clock drifts (no
data-quality gate judges these documents, so the bound only catches a wrong clock or zone)."""
MAX_FUTURE_TREATMENT_MS = 24 * 3_600_000
"""How far ahead a treatment may be: AndroidAPS's extended carbs and Loop's future carb entries
are planned carbs at later times (AndroidAPS spreads them over up to 10 hours), which Nightscout
stores; a day ahead is a wrong clock."""
KEPT = frozenset({"profile", "food"})
"""Collections of settings rather than events (:mod:`glucosestream.ingest.api.nightscout_profile`):
kept, never expiring, never sent to the lake. Checked as treatments are (an object, its size,
its time), a profile also for its ``store`` (:func:`_check_profile`); their ``mills`` may be a
string of digits, as Loop sends it (:func:`_kept_time`)."""
BOUNDS = {"insulin": (0.0, 100.0, "U"), "carbs": (0.0, 1000.0, "g")}
"""Treatment amounts a pump or a person can give; anything outside is a typo or a unit mix-up."""
NIGHTSCOUT_UUID_NAMESPACE = uuid.UUID(bytes=b"NightscoutRocks!")
"""The namespace of Nightscout API v3's calculated identifiers (its ``operationTools.js``)."""


class DocumentError(ValueError):
    """One document that cannot be stored; the message says why."""


def documents_of(
    items: list[Any], collection: str, now_ms: int
) -> tuple[list[Document], list[Rejection]]:
    documents: list[Document] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            documents.append(_document(item, collection, now_ms))
        except DocumentError as error:
            rejected.append(Rejection(index, str(error)))
    return documents, rejected


def _document(item: Any, collection: str, now_ms: int) -> Document:
    if not isinstance(item, dict):
        raise DocumentError(f"a {collection} item must be a JSON object")
    text = json.dumps(item, sort_keys=True, separators=(",", ":"))
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"document over {MAX_DOCUMENT_BYTES} bytes")
    if collection == "profile":
        _check_profile(item)
    date_ms, offset = (_kept_time if collection in KEPT else _time)(item, now_ms)
    ahead = MAX_FUTURE_TREATMENT_MS if collection == "treatments" else MAX_FUTURE_DOCUMENT_MS
    if date_ms > now_ms + ahead:
        raise DocumentError(
            f"created_at {iso_utc(date_ms)} is more than {ahead // 60_000} minutes in the future"
        )
    if collection == "treatments":
        for field, (low, high, unit) in BOUNDS.items():
            value = item.get(field)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DocumentError(f"{field} must be a number of {unit}")
            if not low <= value <= high:
                raise DocumentError(f"{field} {value} is out of range ({low:g}-{high:g} {unit})")
    identifier = sent_identifier(item)
    if identifier is None:
        identifier = (
            treatment_identifier(date_ms, item.get("eventType"))
            if collection == "treatments"
            else hashlib.sha256(text.encode()).hexdigest()[:24]
        )
    body = {**item, "_id": identifier, "created_at": iso_utc(date_ms), "mills": date_ms}
    if "utcOffset" not in item and offset is not None:
        # created_at is stored in UTC; as Nightscout does, the sender's offset is kept beside.
        body["utcOffset"] = offset
    return Document(date_ms, identifier, body)


def sent_identifier(item: dict[str, Any]) -> str | None:
    """The identity the sender gave a document (``_id``, else ``identifier``), if any."""
    identifier = item.get("_id") or item.get("identifier")
    return identifier if isinstance(identifier, str) and identifier else None


def treatment_identifier(date_ms: int, event_type: Any) -> str:
    """The ``_id`` of a treatment sent without one: Nightscout v1 identifies such a treatment by
    ``created_at`` and ``eventType`` (its upsert query), so both, not the whole content, make it;
    24 hex digits like a Nightscout ``_id``."""
    key = json.dumps([date_ms, event_type if isinstance(event_type, str) else None])
    return hashlib.sha256(b"treatment " + key.encode()).hexdigest()[:24]


def identified_by_time(document: Document) -> bool:
    """Whether a treatment's identity is its time and event type (it was sent without one)."""
    return document.identifier == treatment_identifier(
        document.date_ms, document.body.get("eventType")
    )


def same_treatment(stored: Iterable[Document], date_ms: int, event_type: Any) -> Document | None:
    """The stored treatment a treatment sent without an identity replaces: the first one at
    the same time with the same event type, as Nightscout's ``{created_at, eventType}`` upsert
    finds it. Whatever its own identity: one stored before identities were time and event type
    (a content hash) is replaced too."""
    for document in stored:
        if document.date_ms == date_ms and document.body.get("eventType") == event_type:
            return document
    return None


def v3_identifier(device: Any, date_ms: int, event_type: Any) -> str:
    """The identifier Nightscout API v3 calculates for a document created without one
    (``calculateIdentifier``): UUID v5 of ``<device>_<date>[_<eventType>]`` in Nightscout's
    namespace, so a resend from the same device of the same moment and event type is the same
    document (a missing device is ``undefined``, as JavaScript writes it)."""
    key = f"{'undefined' if device is None else _text(device)}_{date_ms}"
    if event_type:
        key += f"_{_text(event_type)}"
    return str(uuid.uuid5(NIGHTSCOUT_UUID_NAMESPACE, key))


def _text(value: Any) -> str:
    """A string as itself, any other JSON value as JSON (clients send strings)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def lake_treatment(
    patient_id: str, body: dict[str, Any], produced_at_ms: int, *, changed: bool
) -> GlucoseTreatment | None:
    """The lake's version of a stored treatment document (:mod:`glucosestream.domain.treatment`),
    or None when it is no business of the lake: a new treatment that gives neither insulin nor
    carbohydrate (a note, a site change, a temp basal). An edit or a deletion (``changed``, or
    ``isValid: false``) is always a version: the treatment it changes may have had them.

    ``body`` is a stored document: ``_id``, ``date`` (epoch ms) and ``srvModified`` set, insulin
    and carbs already checked (:func:`documents_of`).
    """
    insulin, carbs = body.get("insulin"), body.get("carbs")
    is_valid = body.get("isValid", True) is not False
    if insulin is None and carbs is None and is_valid and not changed:
        return None
    sent_offset = body.get("utcOffset")
    offset = 0
    if isinstance(sent_offset, int) and not isinstance(sent_offset, bool):
        offset = sent_offset if abs(sent_offset) <= MAX_UTC_OFFSET_MINUTES else 0
    event_type, entered_by = body.get("eventType"), body.get("enteredBy")
    return GlucoseTreatment(
        treatment_id=str(body["_id"]),
        patient_id=patient_id,
        event_type=event_type if isinstance(event_type, str) else "",
        treated_at=int(body["date"]),
        utc_offset_minutes=offset,
        insulin_units=None if insulin is None else float(insulin),
        carbs_g=None if carbs is None else float(carbs),
        entered_by=entered_by if isinstance(entered_by, str) else None,
        is_valid=is_valid,
        modified_at=int(body["srvModified"]),
        produced_at=produced_at_ms,
    )


def _time(item: dict[str, Any], now_ms: int) -> tuple[int, int | None]:
    """The document's time (epoch ms) and, when ``created_at`` gave it, the sender's UTC offset
    in minutes."""
    created = item.get("created_at")
    if created is not None:
        if not isinstance(created, str):
            raise DocumentError("created_at must be an ISO 8601 string")
        try:
            moment = datetime.fromisoformat(created.strip().replace("Z", "+00:00"))
        except ValueError:
            raise DocumentError(f"created_at {created!r} is not ISO 8601") from None
        offset = moment.utcoffset()
        if offset is None:
            raise DocumentError(f"created_at {created!r} has no UTC offset (add Z or +01:00)")
        return int(moment.astimezone(UTC).timestamp() * 1000), int(offset.total_seconds() // 60)
    for field in ("date", "mills"):
        value = item.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 10**11:
            raise DocumentError(f"{field} must be epoch milliseconds")
        return value, None
    return now_ms, None


def _check_profile(item: dict[str, Any]) -> None:
    """A profile a client can use: ``store`` an object of named profiles (each an object: dia,
    carbratio, sens, basal, targets...), ``defaultProfile`` (when sent) one of them. Nightscout
    draws basal and targets from ``store[defaultProfile]``; AndroidAPS refuses a store without
    it."""
    store = item.get("store")
    if not isinstance(store, dict) or not store:
        raise DocumentError(
            "a profile needs a store: an object of named profiles "
            '({"store": {"Default": {"dia": ..., "basal": [...], ...}}})'
        )
    for name, profile in store.items():
        if not isinstance(profile, dict):
            raise DocumentError(f"store.{name} must be an object (dia, carbratio, sens, basal...)")
    default = item.get("defaultProfile")
    if default is not None and (not isinstance(default, str) or default not in store):
        raise DocumentError(
            f"defaultProfile {default!r} is not a profile of the store ({', '.join(store)})"
        )


def _kept_time(item: dict[str, Any], now_ms: int) -> tuple[int, int | None]:
    """A profile's or a food's time, as :func:`_time` reads it, except that ``mills`` may be a
    string of digits: Loop (NightscoutKit's ProfileSet) sends it so, with ``startDate`` and no
    ``created_at``."""
    mills = item.get("mills")
    if isinstance(mills, str) and item.get("created_at") is None and item.get("date") is None:
        if not mills.isdigit() or int(mills) < 10**11:
            raise DocumentError("mills must be epoch milliseconds")
        return int(mills), None
    return _time(item, now_ms)
