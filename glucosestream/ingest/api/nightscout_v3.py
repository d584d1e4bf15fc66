"""Nightscout API v3 as AndroidAPS's NSClient v3 uses it (``/api/v3``).

Operations: ``version`` (public), ``status`` (with the caller's permissions), ``lastModified``
(the newest ``srvModified`` of each collection), ``{collection}/history/{since}`` (every version
stored after ``since``, oldest first: how NSClient v3 syncs), ``{collection}`` search
(``field$op=value`` filters, ``limit``, ``sort``/``sort$desc``), ``{collection}/{identifier}``
read, and create (``POST {collection}``, one document: 201, or 200 with ``isDeduplication``
when the document is already stored, which it replaces as Nightscout does; without an
``identifier``, Nightscout's calculated one). Answers carry Nightscout's envelope
``{"status": ..., "result": ...}``. Entries, treatments, device status, profiles and foods
(``settings`` is not kept); PATCH and DELETE change treatments, profiles and foods only (the
lake is the record of readings).

Authentication is the v1 service's (JWT bearer from ``/api/v2/authorization/request``, access
tokens, the API secret) with the same roles. Documents written through v1 appear in v3's
history and searches, and the other way round: both write the one read-path store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glucosestream.ingest import nightscout, nightscout_documents
from glucosestream.ingest.api.documents import Document
from glucosestream.ingest.api.nightscout_auth import (
    CREATE_DEVICESTATUS,
    CREATE_ENTRIES,
    CREATE_TREATMENTS,
    DELETE_TREATMENTS,
    READ,
    WRITE_FOOD,
    WRITE_PROFILE,
    Credentials,
)
from glucosestream.ingest.nightscout_find import (
    DEVICESTATUS,
    ENTRIES,
    FOOD,
    PROFILE,
    TREATMENTS,
    FindError,
    Searchable,
    matches,
    parse_find,
)

if TYPE_CHECKING:
    from glucosestream.ingest.api.service import Answer, IngestService

API_VERSION = "3.0.3"
COLLECTIONS = ("entries", "treatments", "devicestatus", "profile", "food")
CREATE = {
    "entries": CREATE_ENTRIES,
    "treatments": CREATE_TREATMENTS,
    "devicestatus": CREATE_DEVICESTATUS,
    "profile": WRITE_PROFILE,
    "food": WRITE_FOOD,
}
CHANGE = {"treatments": DELETE_TREATMENTS, "profile": WRITE_PROFILE, "food": WRITE_FOOD}
"""The collections whose documents PATCH and DELETE change, and who may (readings are the
lake's record; device status is a log)."""
MAX_LIMIT = 1000
V3_FIELDS = ("identifier", "date", "srvModified")
V3_OPERATORS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"}
TIME_SORTS = frozenset({"date", "created_at", "mills"})
"""The fields a search may sort by: each is the document's time, the order it is kept in
(AndroidAPS sorts entries by ``date`` and treatments by ``created_at``)."""
RESERVED_PARAMETERS = frozenset({"limit", "sort", "sort$desc", "token", "secret", "fields", "now"})
"""Query parameters that are not filters; any other ``field`` or ``field$op`` filters."""
IMMUTABLE_FIELDS = ("identifier", "date", "created_at", "mills", "utcOffset", "srvCreated")
"""A document's identity and time: a PATCH that changes one is refused (as Nightscout does)."""
UNSERVED_COLLECTIONS = ("settings",)
"""Nightscout collections this API does not keep: reported with no permissions in status, as
clients (AndroidAPS) require every collection's entry there."""
SEARCHABLE = {"entries": ENTRIES, "treatments": TREATMENTS, "devicestatus": DEVICESTATUS}
SEARCHABLE.update(profile=PROFILE, food=FOOD)


def _v3(searchable: Searchable) -> Searchable:
    """A collection's v3 filters: its v1 fields plus ``identifier``, ``date`` (ms) and
    ``srvModified``; no default date window (v3 has none)."""
    return Searchable(
        fields=tuple(dict.fromkeys((*searchable.fields, *V3_FIELDS))),
        integer_fields=searchable.integer_fields | {"date", "srvModified"},
        date_field="date",
        date_fields=(*searchable.date_fields, "date", "srvModified"),
    )


def _answered(collection: str, body: dict[str, Any]) -> dict[str, Any]:
    """A stored document as v3 answers it (entries as v1 answers them)."""
    return nightscout.answered_entry(body) if collection == "entries" else body


SERVER_FIELDS = frozenset({"srvCreated", "srvModified"})


def _unchanged(stored: dict[str, Any], resent: dict[str, Any]) -> bool:
    """Whether a resent document says what the stored one says (the server's times aside)."""

    def content(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in SERVER_FIELDS}

    return content(stored) == content(resent)


def _entry_content(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored entry without what the server adds to a reading's entry (``identifier``)."""
    return {k: v for k, v in stored.items() if k != "identifier"}


class NightscoutV3:
    def __init__(self, service: IngestService) -> None:
        self.service = service

    # -- helpers ------------------------------------------------------------------------------

    def _answer(self, status: int, result: Any = None, **extra: Any) -> Answer:
        from glucosestream.ingest.api.service import Answer

        body: dict[str, Any] = {"status": status}
        if result is not None:
            body["result"] = result
        return Answer(status, {**body, **extra})

    def _caller(
        self, credentials: Credentials, collection: str | None, permission: str
    ) -> tuple[str, Any] | Answer:
        """(patient pseudonym, principal) of a permitted caller, or the refusal."""
        from glucosestream.ingest.api.service import Answer, refuse

        principal = self.service.nightscout_caller(credentials, permission)
        if isinstance(principal, Answer):
            return principal
        if collection is not None and collection not in COLLECTIONS:
            return refuse(404, f"no collection {collection}; use {', '.join(COLLECTIONS)}")
        return self.service.site_pseudonym(principal), principal

    # -- operations ---------------------------------------------------------------------------

    def version(self) -> Answer:
        return self._answer(200, self._version_document())

    def _version_document(self) -> dict[str, Any]:
        return {
            "version": nightscout.NIGHTSCOUT_VERSION,
            "apiVersion": API_VERSION,
            "srvDate": self.service.clock_ms(),
            "storage": {"storage": "dynamodb", "version": "1"},
        }

    def status(self, credentials: Credentials) -> Answer:
        from glucosestream.ingest.api.service import Answer

        caller = self.service.nightscout_authenticated(credentials)
        if isinstance(caller, Answer):
            return caller
        permissions = {
            collection: ("c" if caller.may(CREATE[collection]) else "")
            + ("r" if caller.may(READ) else "")
            + ("ud" if collection in CHANGE and caller.may(CHANGE[collection]) else "")
            for collection in COLLECTIONS
        }
        permissions.update(dict.fromkeys(UNSERVED_COLLECTIONS, ""))
        return self._answer(200, {**self._version_document(), "apiPermissions": permissions})

    def last_modified(self, credentials: Credentials) -> Answer:
        caller = self._caller(credentials, None, READ)
        if not isinstance(caller, tuple):
            return caller
        patient, _ = caller
        collections = {}
        for collection in COLLECTIONS:
            newest = self.service.documents.last_modified(patient, collection)
            if newest is not None:
                collections[collection] = newest
        return self._answer(200, {"srvDate": self.service.clock_ms(), "collections": collections})

    def history(
        self, credentials: Credentials, collection: str, since_ms: str, limit: int | None
    ) -> Answer:
        from glucosestream.ingest.api.service import refuse

        caller = self._caller(credentials, collection, READ)
        if not isinstance(caller, tuple):
            return caller
        if not since_ms.isdigit():
            return refuse(400, "history/{lastModified}: epoch milliseconds expected")
        size = MAX_LIMIT if limit is None else limit
        if not 1 <= size <= MAX_LIMIT:
            return refuse(400, f"limit must be within 1-{MAX_LIMIT}")
        patient, _ = caller
        versions = self.service.documents.modified_since(patient, collection, int(since_ms), size)
        return self._answer(200, [_answered(collection, d.body) for d in versions])

    def read(self, credentials: Credentials, collection: str, identifier: str) -> Answer:
        caller = self._caller(credentials, collection, READ)
        if not isinstance(caller, tuple):
            return caller
        patient, _ = caller
        found = self._by_identifier(patient, collection, identifier)
        if found is None:
            return self._answer(404, message=f"no {collection} document {identifier}")
        return self._answer(200, _answered(collection, found.body))

    def search(
        self, credentials: Credentials, collection: str, query: dict[str, list[str]]
    ) -> Answer:
        from glucosestream.ingest.api.service import MAX_SCANNED_ENTRIES, refuse

        caller = self._caller(credentials, collection, READ)
        if not isinstance(caller, tuple):
            return caller
        patient, _ = caller
        try:
            # Nightscout's default is its ceiling (API3_MAX_LIMIT): AndroidAPS's first
            # sgv search sends no limit.
            limit = int((query.get("limit") or [str(MAX_LIMIT)])[-1])
        except ValueError:
            return refuse(400, "limit must be a whole number")
        if not 1 <= limit <= MAX_LIMIT:
            return refuse(400, f"limit must be within 1-{MAX_LIMIT}")
        if query.get("sort") and query.get("sort$desc"):
            return refuse(400, "sort and sort$desc cannot be combined")
        oldest_first = bool(query.get("sort"))
        sort_field = (query.get("sort") or query.get("sort$desc") or ["date"])[-1]
        if sort_field not in TIME_SORTS:
            return refuse(400, f"sort by time only: {' or '.join(sorted(TIME_SORTS))}")
        find: dict[str, list[str]] = {}
        for key, values in query.items():
            if key in RESERVED_PARAMETERS:
                continue
            field, dollar, operator = key.partition("$")
            if not dollar:
                operator = "eq"  # field=value, as Nightscout reads it
            elif operator not in V3_OPERATORS:
                return refuse(400, f"{key}: unknown operator {operator}")
            find[f"find[{field}][${operator}]"] = values
        try:
            conditions = parse_find(find, 0, _v3(SEARCHABLE[collection]), default_window=False)
        except FindError as error:
            return refuse(400, str(error))
        stored = self.service.documents.newest(patient, collection, limit=MAX_SCANNED_ENTRIES)
        answered = (_answered(collection, d.body) for d in stored)
        found = [body for body in answered if matches(body, conditions)]
        if oldest_first:
            found.reverse()
        return self._answer(200, found[:limit])

    def create(self, credentials: Credentials, collection: str, body: bytes) -> Answer:
        from glucosestream.ingest.api.service import Answer, refuse

        caller = self._caller(credentials, collection, CREATE.get(collection, READ))
        if not isinstance(caller, tuple):
            return caller
        patient, principal = caller
        document = self.service.json_object(body)
        if isinstance(document, Answer):
            return document
        now = self.service.clock_ms()
        if collection == "entries":
            return self._create_entry(principal, patient, document, now)
        documents, rejected = nightscout_documents.documents_of([document], collection, now)
        if rejected:
            return refuse(400, rejected[0].reason)
        (new,) = documents
        sent = document.get("identifier") or nightscout_documents.sent_identifier(document)
        # Without one, Nightscout's calculated identifier: a resend of the same device, time
        # and event type is the same document.
        identifier = str(
            sent
            or nightscout_documents.v3_identifier(
                document.get("device"), new.date_ms, document.get("eventType")
            )
        )
        at_time = self._stored_at(patient, collection, new.date_ms)
        existing = _with_identifier(at_time, identifier)
        if existing is None and not sent and collection == "treatments":
            # Nightscout's fallback deduplication: a treatment stored without a v3 identifier
            # (through v1) at the same created_at with the same eventType is this one.
            existing = nightscout_documents.same_treatment(
                at_time, new.date_ms, document.get("eventType")
            )
        # A resend replaces the stored document, as Nightscout's create does: it may differ
        # (carbs 20 → 25), and the lake gets the new version of the one treatment. It keeps the
        # stored identity, so the lake's treatment is the same one.
        if existing is not None:
            identifier = existing.identifier
        modified = now if existing is None else self.service.next_version_ms(existing)
        created = now if existing is None else existing.body.get("srvCreated", modified)
        stored = Document(
            new.date_ms,
            identifier,
            {
                **new.body,
                # A v1 client's _id stays its _id; otherwise v1 finds it by the identifier.
                "_id": new.body["_id"] if existing is None and document.get("_id") else identifier,
                "identifier": identifier,
                "date": new.date_ms,
                "srvCreated": created,
                "srvModified": modified,
                "isValid": new.body.get("isValid", True),
            },
            modified,
        )
        if existing is not None and _unchanged(existing.body, stored.body):
            # A retry of what is stored: no new version for history or the lake.
            modified = existing.modified_ms or modified
        else:
            edits = () if existing is None else {identifier}
            failed = self.service.store_documents(patient, collection, [stored], edits=edits)
            if failed is not None:
                return failed
        if existing is None:
            return self._answer(201, identifier=identifier, lastModified=modified)
        return self._deduplicated(identifier, modified)

    def patch(
        self, credentials: Credentials, collection: str, identifier: str, body: bytes
    ) -> Answer:
        """``PATCH /api/v3/treatments/{identifier}`` (AndroidAPS's updateTreatment): the given
        fields merged into the stored treatment, checked as a new one is; its identity and time
        (``identifier``, ``date``, ``created_at``, ``mills``, ``utcOffset``, ``srvCreated``)
        cannot change, as in Nightscout."""
        from glucosestream.ingest.api.service import Answer, refuse

        found = self._changeable(credentials, collection, identifier)
        if isinstance(found, Answer):
            return found
        patient, stored = found
        changes = self.service.json_object(body)
        if isinstance(changes, Answer):
            return changes
        for field in IMMUTABLE_FIELDS:
            if field in changes and changes[field] != stored.body.get(field):
                return refuse(400, f"{field} cannot be changed (it is the document's identity)")
        merged = {**stored.body, **changes}
        _, rejected = nightscout_documents.documents_of([merged], collection, stored.date_ms)
        if rejected:
            return refuse(400, rejected[0].reason)
        modified = self.service.next_version_ms(stored)
        updated = Document(
            stored.date_ms, stored.identifier, {**merged, "srvModified": modified}, modified
        )
        failed = self.service.store_documents(
            patient, collection, [updated], edits={stored.identifier}
        )
        if failed is not None:
            return failed
        return self._answer(200, identifier=stored.identifier, lastModified=modified)

    def delete(self, credentials: Credentials, collection: str, identifier: str) -> Answer:
        """``DELETE /api/v3/treatments/{identifier}`` (AndroidAPS's deleteTreatment): gone from
        search and read; history lists it with ``isValid: false``."""
        from glucosestream.ingest.api.service import Answer

        found = self._changeable(credentials, collection, identifier)
        if isinstance(found, Answer):
            return found
        patient, stored = found
        modified = self.service.delete_document(patient, collection, stored)
        if isinstance(modified, Answer):
            return modified
        return self._answer(200, identifier=stored.identifier, lastModified=modified)

    def _changeable(
        self, credentials: Credentials, collection: str, identifier: str
    ) -> tuple[str, Document] | Answer:
        """(patient, the stored treatment) a caller may change, or the refusal: treatments only
        (readings are the lake's record; device status is a log), admins only."""
        from glucosestream.ingest.api.service import refuse

        caller = self._caller(credentials, collection, CHANGE.get(collection, DELETE_TREATMENTS))
        if not isinstance(caller, tuple):
            return caller
        if collection not in CHANGE:
            return refuse(
                422,
                f"{collection} documents cannot be changed or deleted: only treatments, profiles "
                "and foods can (readings are the lake's record; upload a corrected reading "
                "instead)",
            )
        patient, _ = caller
        stored = self._by_identifier(patient, collection, identifier)
        if stored is None:
            return self._answer(404, message=f"no {collection} document {identifier}")
        return patient, stored

    def _create_entry(
        self, principal: Any, patient: str, document: dict[str, Any], now: int
    ) -> Answer:
        from glucosestream.ingest.api.service import refuse

        validated, skipped = nightscout.validate_entries(
            [document], self.service.site_patient(principal), self.service.pseudonym_key, now
        )
        if validated.rejected:
            return refuse(400, validated.rejected[0].reason)
        if skipped:
            return refuse(400, skipped[0].reason)
        (accepted,) = validated.accepted
        reading = accepted.reading
        # One read of the entries at the reading's millisecond serves both look-ups: its own
        # identity (a resend) and another uploader's entry of the same reading.
        at_time = self._stored_at(patient, "entries", reading.measured_at)
        existing = _with_identifier(at_time, reading.event_id)
        if existing is not None and _unchanged(
            _entry_content(existing.body), nightscout.stored_entry(reading)
        ):
            return self._deduplicated(reading.event_id, existing.modified_ms)
        if existing is None:
            (copy,) = nightscout.copies_of_stored_readings([reading], [d.body for d in at_time])
            holder = None if copy is None else _with_identifier(at_time, copy)
            if copy is not None and holder is not None:
                # Another uploader's entry already holds this reading (Nightscout keeps one of
                # a date and type): it is the one answered, nothing is published again.
                return self._deduplicated(copy, holder.modified_ms)
        # A resend that differs (sgv 150 → 152 from the same device at the same date) replaces
        # the stored entry, as Nightscout's create does, and goes on the stream as v1's resend
        # does: the lake then holds both copies of the reading's identity, which its documented
        # rule resolves (curated keeps the earliest produced; conflicting_identities reports it).
        modified = now if existing is None else self.service.next_version_ms(existing)
        failed = self.service.publish_validated(validated, modified_ms=modified)
        if failed is not None:
            return failed
        if existing is None:
            return self._answer(201, identifier=reading.event_id, lastModified=modified)
        return self._deduplicated(reading.event_id, modified)

    def _deduplicated(self, identifier: str, modified: int | None) -> Answer:
        """A create Nightscout deduplicates: 200, the stored document's identifier."""
        return self._answer(
            200,
            identifier=identifier,
            lastModified=modified,
            isDeduplication=True,
            deduplicatedIdentifier=identifier,
        )

    def _by_identifier(self, patient: str, collection: str, identifier: str) -> Document | None:
        """The stored document with this identifier (the newest, if a v1 client stored it at
        two times)."""
        found = self.service.documents.with_identifiers(patient, collection, [identifier])
        return found[-1] if found else None

    def _stored_at(self, patient: str, collection: str, date_ms: int) -> list[Document]:
        """The collection's documents stored at this millisecond (a create's deduplication)."""
        return self.service.documents.newest(
            patient, collection, date_from=date_ms, date_to=date_ms, limit=MAX_LIMIT
        )


def _with_identifier(documents: list[Document], identifier: str) -> Document | None:
    """The document of ``documents`` that has this identifier (a v1 ``_id`` or v3
    ``identifier``), if any."""
    for candidate in documents:
        if identifier in (candidate.identifier, candidate.body.get("identifier")):
            return candidate
    return None
