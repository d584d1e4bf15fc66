"""The ingest API's application logic, behind any HTTP front (Lambda resolver, local server).

Every answer is an :class:`Answer` (status, JSON body, headers); every refusal is a 4xx whose body
says why, and a 503 says how much reached the stream. The publisher is injected: the handler's
composition root wraps the Kinesis producer, tests pass fakes.

Order of checks: authentication (401), rate limit (429), size (413), JSON shape (400), items.
A request is answered 202 (or Nightscout's 200) only after Kinesis accepted every accepted item.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.alerts.ports import StateConflict
from glucosestream.domain.alerts.acknowledgement import UnknownAlert
from glucosestream.domain.alerts.patient_settings import InvalidAlertSettings
from glucosestream.domain.erasure import ReadingErasure
from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import GlucoseReading, ReadingSource
from glucosestream.domain.treatment import GlucoseTreatment
from glucosestream.ingest import nightscout, nightscout_documents
from glucosestream.ingest.api.auth import ApiKeys, NightscoutSecret, Principal
from glucosestream.ingest.api.documents import Document, DocumentStore
from glucosestream.ingest.api.nightscout_auth import (
    CREATE_DEVICESTATUS,
    CREATE_ENTRIES,
    CREATE_TREATMENTS,
    DELETE_ENTRIES,
    DELETE_TREATMENTS,
    READ,
    Caller,
    Credentials,
    NightscoutAuth,
    Refused,
)
from glucosestream.ingest.api.ratelimit import RateLimiter, retry_after_header
from glucosestream.ingest.api.readings import Validated, validate_items
from glucosestream.ingest.lake_entries import ArchiveUnavailable, EntryArchive
from glucosestream.ingest.nightscout_find import (
    DEVICESTATUS,
    TREATMENTS,
    Condition,
    FindError,
    date_bounds,
    iso_utc,
    matches,
    parse_find,
)
from glucosestream.ingest.units import quoted

UNAVAILABLE_RETRY_AFTER_S = 5
MAX_REJECTIONS_IN_HEADER = 10
MAX_CONTROL_BODY_BYTES = 4096
"""Alert settings and acknowledgements are a few fields."""
_ALERT_ID_DIGITS = frozenset("0123456789abcdef")
ACK_FIELDS = frozenset({"patient_id"})
"""The fields of an acknowledgement's body."""
MAX_SCANNED_ENTRIES = 5000
MAX_DELETED_ENTRIES = 2016
"""Entries one DELETE removes at most (a client repeats it for more): each is an erasure on the
stream and a store write, so a call stays seconds long whatever GET's ``count`` allows."""
ENTRY_PAGE = 8
"""Entries read first, from an entry found by identifier down, for the sgv before it."""
"""Entries a GET reads from the store at most (4 days of 1-minute readings fit)."""
DAY_MS = 86_400_000
COPY_LOOKUP_GAP_MS = 15 * 60_000
"""Batch readings closer than this are looked up for other uploaders' copies with one Query
(sensors read every 1-5 minutes: a backfill is one run; a gap costs a Query, not the gap's
entries)."""
MAX_LIMIT_AT_ONE_TIME = 100
"""Stored treatments read at one millisecond to find the one a resend replaces: a handful at
most in practice (a bolus and its carbs, a temp basal)."""
ENTRY_TYPES = frozenset({"sgv", "mbg", "cal"})
"""Nightscout's entry types: ``/entries/<type>`` filters by one; any other spec is an id."""
OPEN_ARCHIVE_RANGE_MS = 30 * DAY_MS
"""How far back from its upper bound a ``find[date]`` without a lower bound reads the lake."""


class StreamUnavailable(RuntimeError):
    """The stream did not take the readings; ``sent`` of them had got through before."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


Publisher = Callable[[list[GlucoseReading]], None]
"""Puts every reading on the stream or raises StreamUnavailable."""
TreatmentPublisher = Callable[[list[GlucoseTreatment]], None]
"""Puts every treatment version on the treatments stream or raises StreamUnavailable."""
ErasurePublisher = Callable[[list[ReadingErasure]], None]
"""Puts every erasure on the erasures stream or raises StreamUnavailable."""


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_items: int = 2016
    max_count: int = 10_000
    """Largest ``count`` of one GET (entries, treatments, device status): Nightscout's own
    report page asks ``count=10000`` of a day's entries and device status. Not more: a Lambda
    answers at most 6 MB, and 10,000 entries are ~3-4 MB of JSON (~400 bytes each with a long
    device name); the store and the lake read at most this many (plus one) to answer it."""
    recent_days: int = 14
    """Days of entries the read path's store answers for; older ones come from the lake."""


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def refuse(status: int, message: str, **extra: Any) -> Answer:
    return Answer(status, {"status": status, "message": message, **extra})


def unavailable(
    message: str, retry_after_s: int = UNAVAILABLE_RETRY_AFTER_S, **extra: Any
) -> Answer:
    """A 503 saying why, with the ``Retry-After`` a client should honour."""
    answer = refuse(503, message, **extra)
    answer.headers["Retry-After"] = str(retry_after_s)
    return answer


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class IngestService:
    def __init__(
        self,
        keys: ApiKeys,
        nightscout_secret: NightscoutSecret | None,
        publish: Publisher,
        documents: DocumentStore,
        limiter: RateLimiter,
        pseudonym_key: bytes,
        limits: Limits | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        alert_controls: PatientAlertControls | None = None,
        nightscout_tokens: dict[str, Any] | None = None,
        entry_archive: EntryArchive | None = None,
        publish_treatments: TreatmentPublisher | None = None,
        publish_erasures: ErasurePublisher | None = None,
    ) -> None:
        self.keys = keys
        self.nightscout_auth = (
            None
            if nightscout_secret is None
            else NightscoutAuth.configure(nightscout_secret, nightscout_tokens or {})
        )
        self.publish = publish
        self.publish_treatments = publish_treatments
        """None: treatments stay in the read path only (tests of other behaviour)."""
        self.publish_erasures = publish_erasures
        """None: a deleted entry leaves the read path only (tests of other behaviour)."""
        self.documents = documents
        self.limiter = limiter
        self.pseudonym_key = pseudonym_key
        self.limits = limits or Limits()
        self.clock_ms = clock_ms
        self.alert_controls = alert_controls
        self.entry_archive = entry_archive
        self.published_readings = 0
        """Readings this service put on the stream (the demo's run totals count them)."""
        self._served_patient = (
            None
            if nightscout_secret is None
            else pseudonymise(self.site_patient(nightscout_secret.principal), pseudonym_key)
        )
        """The pseudonym of the one patient the Nightscout routes read (None: no site)."""

    # -- shared gates ---------------------------------------------------------------------------

    def _throttled(self, principal: Principal) -> Answer | None:
        wait = self.limiter.acquire(f"{principal.tenant}/{principal.key_id}")
        if wait <= 0:
            return None
        answer = refuse(429, f"rate limit of {self.limiter.rate_per_s:g} requests/s exceeded")
        answer.headers["Retry-After"] = retry_after_header(wait)
        return answer

    def _items(
        self, body: bytes, *, single_object_ok: bool, empty_ok: bool = False
    ) -> list[Any] | Answer:
        """The body's items, or the refusal. ``single_object_ok``: one object is one item (as
        Nightscout reads it); ``empty_ok``: an empty array is no items (Nightscout answers it
        200 ``[]``: an uploader with nothing new may send one, and a 4xx would alarm it)."""
        if len(body) > self.limits.max_body_bytes:
            return refuse(
                413,
                f"body of {len(body)} bytes exceeds the {self.limits.max_body_bytes}-byte limit",
            )
        if not body.strip():
            return refuse(400, "empty body: send a JSON array")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            return refuse(400, f"body is not JSON: {error}")
        if single_object_ok and isinstance(document, dict):
            document = [document]
        if not isinstance(document, list):
            return refuse(400, f"body is a JSON {type(document).__name__}, expected an array")
        if not document and not empty_ok:
            return refuse(400, "empty array: nothing to ingest")
        if len(document) > self.limits.max_items:
            return refuse(
                413, f"{len(document)} items exceed the limit of {self.limits.max_items} a request"
            )
        return document

    def publish_validated(
        self, validated: Validated, *, modified_ms: int | None = None
    ) -> Answer | None:
        """Put the accepted readings on the stream, then the site patient's in the read path
        (``modified_ms``: their ``srvModified``, by default now); the 503 if the stream did not
        take them."""
        readings = [item.reading for item in validated.accepted]
        try:
            self.publish(readings)
        except StreamUnavailable as error:
            return unavailable(
                f"the stream is unavailable ({error}); {error.sent} of {len(readings)} valid "
                "readings reached it before it failed. Retry the whole request: readings are "
                "deduplicated by their identity (patient, device, measured_at).",
                accepted=0,
                sent_before_failure=error.sent,
                rejected=[r.as_dict() for r in validated.rejected],
            )
        self.published_readings += len(readings)
        # Only the Nightscout site's patient is ever read back through the Nightscout routes:
        # a clinic's bulk upload of other patients costs no read-path write.
        patient = self._served_patient
        served = [r for r in readings if patient is not None and r.patient_id == patient]
        if patient is not None and served:
            # API v3's srvModified: when the server stored it
            modified = self.clock_ms() if modified_ms is None else modified_ms
            documents = [
                Document(
                    r.measured_at,
                    r.event_id,
                    {
                        **nightscout.stored_entry(r),
                        "identifier": r.event_id,
                        "srvModified": modified,
                    },
                    modified,
                )
                for r in served
            ]
            self.documents.put(patient, "entries", documents)
        return None

    # -- POST /v1/readings ----------------------------------------------------------------------

    def _api_caller(self, api_key: str | None) -> Principal | Answer:
        """The authenticated, not throttled API-key caller, or the answer refusing it."""
        principal = self.keys.authenticate(api_key)
        if principal is None:
            reason = "unknown API key" if api_key else "missing x-api-key header"
            return refuse(401, reason)
        return self._throttled(principal) or principal

    def post_readings(self, api_key: str | None, body: bytes) -> Answer:
        principal = self._api_caller(api_key)
        if isinstance(principal, Answer):
            return principal
        items = self._items(body, single_object_ok=False)
        if isinstance(items, Answer):
            return items
        validated = validate_items(items, principal, self.pseudonym_key, self.clock_ms())
        rejected = [r.as_dict() for r in validated.rejected]
        if not validated.accepted:
            forbidden = all("may not write" in r.reason for r in validated.rejected)
            status = 403 if forbidden else 422
            return refuse(status, "no item was accepted", accepted=0, rejected=rejected)
        failed = self.publish_validated(validated)
        if failed is not None:
            return failed
        return Answer(
            202,
            {
                "accepted": len(validated.accepted),
                "rejected": rejected,
                "event_ids": [item.reading.event_id for item in validated.accepted],
            },
        )

    # -- Nightscout -----------------------------------------------------------------------------

    def nightscout_authenticated(self, credentials: Credentials | str | None) -> Caller | Answer:
        """Who the credentials prove (a plain string is the ``api-secret`` header), or 404 when
        no site is configured, 401 when they prove nothing."""
        if self.nightscout_auth is None:
            return refuse(404, "the Nightscout API is not configured (GS_INGEST_NIGHTSCOUT_SECRET)")
        if not isinstance(credentials, Credentials):
            credentials = Credentials(api_secret=credentials)
        try:
            return self.nightscout_auth.authenticate(credentials, self.clock_ms() // 1000)
        except Refused as refused:
            return refuse(401, str(refused))

    def nightscout_caller(
        self, credentials: Credentials | str | None, permission: str = READ
    ) -> Principal | Answer:
        """The authenticated, permitted, not throttled Nightscout caller, or the answer refusing
        it: 401 for credentials that prove nothing, 403 for a token whose roles do not allow
        ``permission``."""
        caller = self.nightscout_authenticated(credentials)
        if isinstance(caller, Answer):
            return caller
        if not caller.may(permission):
            return refuse(403, f"{caller.subject} may not {permission.replace(':', ' ')}")
        return self._throttled(caller.principal) or caller.principal

    def site_patient(self, principal: Principal) -> str:
        (patient,) = principal.patients  # a Nightscout secret writes exactly one patient
        return patient

    def site_pseudonym(self, principal: Principal) -> str:
        return pseudonymise(self.site_patient(principal), self.pseudonym_key)

    def post_entries(self, api_secret: Credentials | str | None, body: bytes) -> Answer:
        principal = self.nightscout_caller(api_secret, CREATE_ENTRIES)
        if isinstance(principal, Answer):
            return principal
        items = self._items(body, single_object_ok=True, empty_ok=True)
        if isinstance(items, Answer):
            return items
        validated, _skipped = nightscout.validate_entries(
            items, self.site_patient(principal), self.pseudonym_key, self.clock_ms()
        )
        rejected = [r.as_dict() for r in validated.rejected]
        if not validated.accepted and validated.rejected:
            return refuse(400, "no entry was accepted", rejected=rejected)
        readings = [a.reading for a in validated.accepted]
        copies = self.copies_of_stored(self.site_pseudonym(principal), readings)
        new = [a for a, copy in zip(validated.accepted, copies, strict=True) if copy is None]
        if new:
            failed = self.publish_validated(Validated(new, validated.rejected))
            if failed is not None:
                return failed
        # Nightscout answers the stored entries (a copy as the entry that holds it); uploaders
        # only look at the 200. Rejections of a partly good batch go in a header: a 4xx would
        # make the uploader resend the good ones forever, and the body must stay Nightscout's
        # array.
        answered = [copy or r.event_id for r, copy in zip(readings, copies, strict=True)]
        answer = Answer(200, self._stored_entries(readings, answered))
        return _with_rejections(answer, rejected)

    def copies_of_stored(self, patient: str, readings: list[GlucoseReading]) -> list[str | None]:
        """For each reading, the ``_id`` of the stored entry (another uploader's, or an
        earlier one of the batch) that already holds it, else None
        (:func:`~glucosestream.ingest.nightscout.copies_of_stored_readings`): Nightscout keeps
        one entry of a date and type whoever uploads it. The stored entries are read with one
        Query a run of the batch's dates (:data:`COPY_LOOKUP_GAP_MS`): a day's backfill of 288
        readings is one Query of what lies between them."""
        dates = [r.measured_at for r in readings if r.source is ReadingSource.CGM]
        stored = [
            document.body
            for first, last in nightscout.date_runs(dates, COPY_LOOKUP_GAP_MS)
            for document in self.documents.newest(
                patient, "entries", date_from=first, date_to=last, limit=self.limits.max_count
            )
        ]
        return nightscout.copies_of_stored_readings(readings, stored)

    def post_documents(
        self,
        api_secret: Credentials | str | None,
        collection: str,
        body: bytes,
        *,
        upsert: bool = False,
    ) -> Answer:
        """``POST /api/v1/treatments`` and ``/devicestatus``: stored for the site's patient,
        answered as Nightscout does (200, the stored documents). ``upsert`` (``PUT``, how
        xDrip+ sends every treatment, with its ``_id``): a document replaces the stored one with
        the same ``_id`` even when its time changed."""
        permission = CREATE_TREATMENTS if collection == "treatments" else CREATE_DEVICESTATUS
        principal = self.nightscout_caller(api_secret, permission)
        if isinstance(principal, Answer):
            return principal
        items = self._items(body, single_object_ok=True, empty_ok=True)
        if isinstance(items, Answer):
            return items
        if not items:
            return Answer(200, [])
        documents, refusals = nightscout_documents.documents_of(items, collection, self.clock_ms())
        rejected = [r.as_dict() for r in refusals]
        if not documents:
            return refuse(400, f"no {collection} document was accepted", rejected=rejected)
        patient = self.site_pseudonym(principal)
        now = self.clock_ms()
        replaced: dict[str, Document] = {}
        if collection == "treatments":
            documents, replaced = self._identified_by_time(patient, documents)
        documents = [
            Document(
                d.date_ms,
                d.identifier,
                {**d.body, "identifier": d.identifier, "date": d.date_ms, "srvModified": modified},
                modified,
            )
            for d in documents
            for modified in [
                self.next_version_ms(replaced[d.identifier]) if d.identifier in replaced else now
            ]
        ]
        # Of one identity in one batch the last stays, as Nightscout's ordered upserts leave it;
        # each item is answered as its identity is stored.
        last = {(d.date_ms, d.identifier): d for d in documents}
        answered = [last[(d.date_ms, d.identifier)].body for d in documents]
        documents = list(last.values())
        moved: list[Document] = []
        edits: set[str] = set(replaced)
        if upsert:
            # Nightscout applies a PUT's documents one after another: of one _id, the last stays.
            documents = list({d.identifier: d for d in documents}.values())
            answered = [d.body for d in documents]
            # Whatever their age: xDrip+ sends every treatment so, an edit of an old one too.
            identifiers = {d.identifier: d.date_ms for d in documents}
            stored = self.documents.with_identifiers(patient, collection, identifiers)
            edits |= {d.identifier for d in stored}
            moved = [d for d in stored if identifiers[d.identifier] != d.date_ms]
        failed = self.store_documents(patient, collection, documents, edits=edits)
        if failed is not None:
            return failed
        self.documents.remove(patient, collection, moved)
        return _with_rejections(Answer(200, answered), rejected)

    def _identified_by_time(
        self, patient: str, documents: list[Document]
    ) -> tuple[list[Document], dict[str, Document]]:
        """Treatments sent without an identity, each given that of the stored treatment it
        replaces (the same ``created_at`` and ``eventType``, as Nightscout's upsert finds it),
        and those stored treatments by identifier. Their identity is already their time and
        event type; the lookup also finds one stored before it was (a content hash), so a
        resend replaces it too. One Query a distinct time (a few items: the treatments of
        that millisecond); treatments sent with an identity cost none."""
        by_time = {d.date_ms for d in documents if nightscout_documents.identified_by_time(d)}
        stored_at = {
            date: self.documents.newest(
                patient, "treatments", date_from=date, date_to=date, limit=MAX_LIMIT_AT_ONE_TIME
            )
            for date in sorted(by_time)
        }
        identified: list[Document] = []
        replaced: dict[str, Document] = {}
        for document in documents:
            stored = None
            if document.date_ms in stored_at:
                stored = nightscout_documents.same_treatment(
                    stored_at[document.date_ms], document.date_ms, document.body.get("eventType")
                )
            if stored is None:
                identified.append(document)
                continue
            replaced[stored.identifier] = stored
            body = {**document.body, "_id": stored.identifier}
            identified.append(Document(document.date_ms, stored.identifier, body))
        return identified, replaced

    def store_documents(
        self,
        patient: str,
        collection: str,
        documents: list[Document],
        *,
        edits: Collection[str] = (),
    ) -> Answer | None:
        """Put documents in the read path; a treatment's version goes on the treatments stream
        first (:func:`~glucosestream.ingest.nightscout_documents.lake_treatment`), so the lake
        has every treatment the API answered for. ``edits``: the identifiers of documents that
        edit or delete a stored one. A 503 when the stream did not take them: nothing was
        stored, and the client's resend is harmless (curated keeps one row per treatment)."""
        if collection == "treatments" and self.publish_treatments is not None:
            produced = self.clock_ms()
            versions = [
                version
                for document in documents
                if (
                    version := nightscout_documents.lake_treatment(
                        patient, document.body, produced, changed=document.identifier in edits
                    )
                )
                is not None
            ]
            if versions:
                try:
                    self.publish_treatments(versions)
                except StreamUnavailable as error:
                    return unavailable(
                        f"the treatments stream is unavailable ({error}); nothing was stored: "
                        "send them again"
                    )
        self.documents.put(patient, collection, documents)
        return None

    def delete_treatment(self, api_secret: Credentials | str | None, identifier: str) -> Answer:
        """``DELETE /api/v1/treatments/<_id>`` (admin, as in Nightscout; xDrip+ deletes so):
        the treatment leaves the read path, and API v3's history logs it with ``isValid:
        false`` so syncing clients drop it too. Answered as Nightscout does: ``{"n": 0|1}``."""
        principal = self.nightscout_caller(api_secret, DELETE_TREATMENTS)
        if isinstance(principal, Answer):
            return principal
        # Whatever its age: a Loop user's newest 5,000 treatments are ~16 days.
        return self.delete_by_identifier(self.site_pseudonym(principal), "treatments", identifier)

    def delete_by_identifier(self, patient: str, collection: str, identifier: str) -> Answer:
        """Every stored version of the document with this ``_id`` deleted, answered as
        Nightscout does: ``{"n": 0|1, "ok": 1}`` (``n: 0`` when not there, so a retried delete
        is harmless); a failed write's answer otherwise."""
        found = self.documents.with_identifiers(patient, collection, [identifier])
        for document in found:
            deleted = self.delete_document(patient, collection, document)
            if isinstance(deleted, Answer):
                return deleted
        return Answer(200, {"n": len(found), "ok": 1})

    def next_version_ms(self, document: Document) -> int:
        """The server time of a document's next version: later than its stored one even within
        one millisecond, since history keeps one version per (srvModified, identifier)."""
        return max(self.clock_ms(), (document.modified_ms or 0) + 1)

    def delete_document(self, patient: str, collection: str, document: Document) -> int | Answer:
        """Remove a stored document from the read path, logging an ``isValid: false`` version
        for API v3's history (syncing clients drop it) and, for a treatment, the lake; its
        ``srvModified``, or the 503 of a stream that did not take the deletion."""
        modified = self.next_version_ms(document)
        deleted = {**document.body, "isValid": False, "srvModified": modified}
        tombstone = Document(document.date_ms, document.identifier, deleted, modified)
        failed = self.store_documents(patient, collection, [tombstone], edits={document.identifier})
        if failed is not None:
            return failed
        self.documents.remove(patient, collection, [tombstone])
        return modified

    def get_documents(
        self,
        api_secret: Credentials | str | None,
        collection: str,
        count: int,
        query: dict[str, list[str]] | None = None,
    ) -> Answer:
        """Newest first (by ``created_at``), filtered by Nightscout's ``find``."""
        principal = self.nightscout_caller(api_secret)
        if isinstance(principal, Answer):
            return principal
        if not 1 <= count <= self.limits.max_count:
            return refuse(400, f"count must be within 1-{self.limits.max_count}")
        searchable = TREATMENTS if collection == "treatments" else DEVICESTATUS
        try:
            conditions = parse_find(query or {}, self.clock_ms(), searchable)
        except FindError as error:
            return refuse(400, f"find: {error}")
        patient = pseudonymise(self.site_patient(principal), self.pseudonym_key)
        stored = self.documents.newest(patient, collection, limit=MAX_SCANNED_ENTRIES)
        found = [d.body for d in stored if matches(d.body, conditions)]
        return Answer(200, found[:count])

    def _stored_entries(
        self, readings: list[GlucoseReading], identifiers: list[str]
    ) -> list[dict[str, Any]]:
        """The entries of ``readings`` in the order sent, as stored under ``identifiers`` (one
        each: its own, or the entry holding it), each ``delta`` against the reading before it
        in the patient's stored history (as a GET would answer them)."""
        if not readings:
            return []
        patient = readings[0].patient_id
        dates = [r.measured_at for r in readings]
        # Other uploaders' copies of the batch's readings are in the range too.
        answered = self._entries_with_deltas(patient, min(dates), max(dates), len(readings) * 8)
        by_id = {entry["_id"]: entry for entry in answered}
        return [
            by_id.get(identifier) or nightscout.entry_of(r, None)
            for r, identifier in zip(readings, identifiers, strict=True)
        ]

    def _entries_with_deltas(
        self, patient: str, date_from: int | None, date_to: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Stored entries in the range, newest first, each with its ``delta`` (the entry just
        before the range is read too, for the oldest one's)."""
        found = self.documents.newest(
            patient, "entries", date_from=date_from, date_to=date_to, limit=limit
        )
        older: dict[str, Any] | None = None
        if found and len(found) < limit:
            before = self.documents.newest(
                patient, "entries", date_to=found[-1].date_ms - 1, limit=1
            )
            older = before[0].body if before else None
        elif len(found) > 1:
            older, found = found[-1].body, found[:-1]  # the extra one read only for its value
        return nightscout.with_deltas([d.body for d in found], older)

    def get_entries(
        self,
        api_secret: Credentials | str | None,
        count: int,
        query: dict[str, list[str]] | None = None,
        *,
        entry_type: str | None = None,
    ) -> Answer:
        """Newest first: the first ``count`` entries matching Nightscout's ``find`` in ``query``
        (``entry_type``: the ``/entries/sgv`` paths' fixed type)."""
        principal = self.nightscout_caller(api_secret)
        if isinstance(principal, Answer):
            return principal
        if not 1 <= count <= self.limits.max_count:
            return refuse(400, f"count must be within 1-{self.limits.max_count}")
        try:
            conditions = parse_find(query or {}, self.clock_ms())
        except FindError as error:
            return refuse(400, f"find: {error}")
        if entry_type is not None:
            conditions.append(Condition("type", "$eq", entry_type))
        patient = pseudonymise(self.site_patient(principal), self.pseudonym_key)
        found = self._matching_entries(patient, conditions, count)
        return found if isinstance(found, Answer) else Answer(200, found)

    def _matching_entries(
        self, patient: str, conditions: list[Condition], count: int
    ) -> list[dict[str, Any]] | Answer:
        """The first ``count`` of the patient's entries matching ``conditions``, newest first:
        from the read path's store within its window, from the lake before it (a 503 when the
        lake does not answer)."""
        date_from, date_to = date_bounds(conditions)
        cutoff = self.clock_ms() - self.limits.recent_days * DAY_MS
        # A larger count reads that many (DynamoDB pages of at most 1,000 items, up to the limit).
        scanned = max(count, MAX_SCANNED_ENTRIES) + 1
        if self.entry_archive is None or (date_from is not None and date_from >= cutoff):
            entries = self._entries_with_deltas(patient, date_from, date_to, scanned)
            return [e for e in entries if matches(e, conditions)][:count]
        # The range reaches before the store's window: the store answers from the cutoff on
        # (never older entries TTL has not removed yet, so every instance answers the same),
        # the lake for the rest when the store's part is not enough.
        found = []
        if date_to is None or date_to >= cutoff:
            recent_from = cutoff if date_from is None else max(date_from, cutoff)
            recent = self._entries_with_deltas(patient, recent_from, date_to, scanned)
            found = [entry for entry in recent if matches(entry, conditions)]
        if len(found) >= count:
            return found[:count]
        older_to = cutoff - 1 if date_to is None else min(date_to, cutoff - 1)
        older_from = older_to - OPEN_ARCHIVE_RANGE_MS if date_from is None else date_from
        try:
            archived = self.entry_archive.entries(patient, older_from, older_to)
        except ArchiveUnavailable as error:
            return unavailable(
                f"entries before {iso_utc(cutoff)} are read from the lake, "
                f"which did not answer: {error}"
            )
        older = nightscout.with_deltas(list(archived), archived.before)
        found.extend(entry for entry in older if matches(entry, conditions))
        return found[:count]

    def delete_entries(
        self,
        credentials: Credentials | str | None,
        query: dict[str, list[str]] | None = None,
        spec: str | None = None,
    ) -> Answer:
        """``DELETE /api/v1/entries?find[…]`` and ``DELETE /api/v1/entries/<spec>`` (admin, as
        in Nightscout; ``spec`` a type or an ``_id``): the matching entries leave the read path
        and, through an erasure on the erasures stream, the lake's curated readings and metrics
        at the pipeline's next run. Answered as Nightscout does: ``{"n": deleted, "ok": 1}``.

        At most :data:`MAX_DELETED_ENTRIES` per call, newest first (``n`` says how many; a client
        repeats the call for more). A DELETE without any condition is refused: Nightscout would
        delete every entry of the site. The erasures go on the stream first; a stream that does
        not take them is a 503 and nothing is deleted."""
        principal = self.nightscout_caller(credentials, DELETE_ENTRIES)
        if isinstance(principal, Answer):
            return principal
        query = query or {}
        try:
            conditions = parse_find(query, self.clock_ms())
        except FindError as error:
            return refuse(400, f"find: {error}")
        if spec in ENTRY_TYPES:
            conditions.append(Condition("type", "$eq", spec))
        elif spec is not None:
            conditions.append(Condition("_id", "$eq", spec))
        # Not the parsed conditions: a find without a date gets the last 4 days added, and a
        # DELETE must name what it deletes.
        if spec is None and not any(key.startswith("find[") for key in query):
            return refuse(
                400,
                "a DELETE of entries needs find conditions (e.g. find[date][$lte]=…) or an "
                "entry id: without them it would delete every entry; nothing was deleted",
            )
        patient = self.site_pseudonym(principal)
        found = self._matching_entries(patient, conditions, MAX_DELETED_ENTRIES)
        if isinstance(found, Answer):
            return found
        if found and self.publish_erasures is not None:
            now = self.clock_ms()
            erasures = [
                ReadingErasure(
                    patient,
                    nightscout.erased_device_id(patient, e),
                    int(e["date"]),
                    now,
                    principal.key_id,
                    now,
                )
                for e in found
            ]
            try:
                self.publish_erasures(erasures)
            except StreamUnavailable as error:
                return unavailable(
                    f"the erasures stream is unavailable ({error}); nothing was deleted"
                )
        stored = [Document(int(e["date"]), str(e["_id"]), e) for e in found]
        self.documents.remove(patient, "entries", stored)
        return Answer(200, {"n": len(found), "ok": 1})

    def get_entry(
        self,
        credentials: Credentials | str | None,
        spec: str,
        count: int,
        query: dict[str, list[str]] | None = None,
    ) -> Answer:
        """``GET /api/v1/entries/<spec>``, as Nightscout reads ``spec``: an entry type (``sgv``,
        ``mbg``, ``cal``) filters the newest entries by type; anything else is an ``_id``, and
        the answer is that entry (with its delta) in a list, or the empty list."""
        if spec in ENTRY_TYPES:
            return self.get_entries(credentials, count, query, entry_type=spec)
        principal = self.nightscout_caller(credentials)
        if isinstance(principal, Answer):
            return principal
        patient = self.site_pseudonym(principal)
        found = self.documents.with_identifiers(patient, "entries", [spec])
        if not found:
            return Answer(200, [])
        # Whatever its age (1-minute sensors pass 5,000 entries in ~3.5 days); its delta is
        # against the next older sgv, read from the entry down.
        # Pages growing from a few entries: the sgv before is nearly always the next entry,
        # and each read costs what it returns (up to MAX_SCANNED_ENTRIES, as before).
        newest_date = max(d.date_ms for d in found)
        limit = ENTRY_PAGE
        while True:
            stored = self.documents.newest(patient, "entries", date_to=newest_date, limit=limit)
            complete = len(stored) < limit or limit == MAX_SCANNED_ENTRIES
            for index, document in enumerate(stored):
                if document.identifier == spec:
                    older = (d.body for d in stored[index + 1 :] if d.body.get("type") == "sgv")
                    before = next(older, None)
                    if before is not None or complete:
                        return Answer(200, nightscout.with_deltas([document.body], before))
                    break
            else:
                if complete:
                    return Answer(200, [])
            limit = min(limit * 8, MAX_SCANNED_ENTRIES)

    def verify_auth(self, credentials: Credentials | str | None) -> Answer:
        """What the credentials may do, in Nightscout's shape (uploaders check ``canWrite``).
        Credentials that prove nothing (none, or wrong) are answered as Nightscout answers
        them: 200 with ``message: "UNAUTHORIZED"`` and no permission, not a 401; clients read
        the answer's fields to tell the user their secret is wrong."""
        caller = self.nightscout_authenticated(credentials)
        if isinstance(caller, Answer):
            if caller.status != 401:
                return caller
            return Answer(
                200,
                {
                    "status": 200,
                    "message": {
                        "canRead": False,
                        "canWrite": False,
                        "isAdmin": False,
                        "message": "UNAUTHORIZED",
                        "rolefound": "NOTFOUND",
                        "permissions": "DEFAULT",
                    },
                },
            )
        writes = {CREATE_ENTRIES, CREATE_TREATMENTS, CREATE_DEVICESTATUS}
        return Answer(
            200,
            {
                "status": 200,
                "message": {
                    "canRead": caller.may(READ),
                    "canWrite": bool(caller.permissions & writes),
                    "isAdmin": caller.subject == "api-secret",
                    "message": "OK",
                    "rolefound": "FOUND",
                    "permissions": "ROLE",
                },
            },
        )

    def request_jwt(self, token: str) -> Answer:
        """``GET /api/v2/authorization/request/<token>``."""
        if self.nightscout_auth is None:
            return refuse(404, "the Nightscout API is not configured (GS_INGEST_NIGHTSCOUT_SECRET)")
        try:
            return Answer(200, self.nightscout_auth.issue_jwt(token, self.clock_ms() // 1000))
        except Refused as refused:
            return refuse(401, str(refused))

    def status(self) -> Answer:
        return Answer(200, nightscout.status_document(self.clock_ms()))

    # -- alert settings and acknowledgements ----------------------------------------------------

    def _controlled_patient(
        self, api_key: str | None, patient_id: Any, body: bytes | None = None
    ) -> tuple[Principal, PatientAlertControls, str, dict[str, Any]] | Answer:
        """The caller, the controls, the patient's pseudonym and the JSON body, once the caller
        may manage this source patient id (its tenant writes it). ``patient_id=None`` reads it
        from the body's ``patient_id`` field."""
        principal = self._api_caller(api_key)
        if isinstance(principal, Answer):
            return principal
        if self.alert_controls is None:
            return refuse(404, "alert settings are not configured on this API")
        document = self.json_object(body or b"")
        if isinstance(document, Answer):
            return document
        if patient_id is None:
            patient_id = document.get("patient_id")
        if not isinstance(patient_id, str) or not patient_id:
            return refuse(400, "patient_id is required: the source patient id, as uploaded")
        if principal.is_bare_prefix(patient_id):
            return refuse(
                400, f"patient_id {quoted(patient_id)} is the tenant prefix with no id after it"
            )
        if not principal.may_write(patient_id):
            return refuse(403, f"key {principal.key_id} may not manage this patient's alerts")
        pseudonym = pseudonymise(patient_id, self.pseudonym_key)
        return principal, self.alert_controls, pseudonym, document

    def json_object(self, body: bytes) -> dict[str, Any] | Answer:
        if len(body) > MAX_CONTROL_BODY_BYTES:
            return refuse(413, f"body exceeds {MAX_CONTROL_BODY_BYTES} bytes")
        try:
            document = json.loads(body or b"{}")
        except (ValueError, RecursionError) as error:
            return refuse(400, f"body is not JSON: {error}")
        if not isinstance(document, dict):
            return refuse(400, f"body is a JSON {type(document).__name__}, expected an object")
        return document

    def get_alert_settings(self, api_key: str | None, patient_id: str | None) -> Answer:
        caller = self._controlled_patient(api_key, patient_id or "")
        if isinstance(caller, Answer):
            return caller
        _, controls, pseudonym, _ = caller
        settings = controls.settings(pseudonym)
        return Answer(200, {"patient_id": patient_id, "settings": settings.to_public_dict()})

    def patch_alert_settings(
        self, api_key: str | None, patient_id: str | None, body: bytes
    ) -> Answer:
        """Change some settings; an invalid value refuses the whole change (nothing stored)."""
        caller = self._controlled_patient(api_key, patient_id or "", body)
        if isinstance(caller, Answer):
            return caller
        _, controls, pseudonym, changes = caller
        if not changes:
            return refuse(400, 'no setting to change: send e.g. {"low_mg_dl": 80}')
        try:
            settings = controls.update_settings(pseudonym, changes)
        except InvalidAlertSettings as error:
            return refuse(400, str(error), field=error.field)
        except StateConflict:
            return self._state_busy()
        return Answer(200, {"patient_id": patient_id, "settings": settings.to_public_dict()})

    def acknowledge_alert(self, api_key: str | None, alert_id: str, body: bytes) -> Answer:
        """``{"patient_id": "<source id>"}``: the patient is named because an alert carries
        only a pseudonym, and the caller's tenant must write the patient. Idempotent."""
        caller = self._controlled_patient(api_key, None, body)
        if isinstance(caller, Answer):
            return caller
        principal, controls, pseudonym, document = caller
        unknown = sorted(set(document) - ACK_FIELDS)
        if unknown:
            return refuse(
                400,
                f"{unknown[0]}: unknown field; an acknowledgement takes only patient_id "
                "(the acknowledger is the API key)",
                field=unknown[0],
            )
        if len(alert_id) != 32 or not set(alert_id) <= _ALERT_ID_DIGITS:
            return refuse(400, "alert_id must be the alert's 32 lowercase hex digits")
        try:
            result = controls.acknowledge(pseudonym, alert_id, principal.key_id)
        except UnknownAlert:
            return refuse(
                404, "no such alert for this patient (unknown, or older than the ~24 h kept)"
            )
        except StateConflict:
            return self._state_busy()
        ack = result.acknowledgement
        return Answer(
            200,
            {
                "alert_id": ack.alert_id,
                "acknowledged_at": ack.acknowledged_at,
                "acknowledged_by": ack.by,
                "already_acknowledged": not result.new,
            },
        )

    def _state_busy(self) -> Answer:
        return unavailable("the patient's alert state is busy; retry (nothing was changed)", 1)


def _with_rejections(answer: Answer, rejected: list[dict[str, Any]]) -> Answer:
    """Nightscout's 200 for a partly good batch: the refusals in headers, the body unchanged."""
    if rejected:
        answer.headers["X-Rejected-Count"] = str(len(rejected))
        # ensure_ascii (json's default) keeps the header value ASCII whatever was sent.
        answer.headers["X-Rejected"] = json.dumps(rejected[:MAX_REJECTIONS_IN_HEADER])
    return answer
