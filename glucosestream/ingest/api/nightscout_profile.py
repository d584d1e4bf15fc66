"""Nightscout profiles and foods through API v1 (``/api/v1/profile``, ``/api/v1/food``).

A **profile** (``defaultProfile``, ``store`` {name: {dia, carbratio, sens, basal, target_low,
target_high, timezone, units}}, ``startDate``) is what Loop and AndroidAPS upload as their
therapy settings and what followers and Nightscout's web client read to draw basal and targets;
a **food** is an entry of the food database or a quick pick (``type: food|quickpick``). Both are
settings, not readings: kept in the read path's store as treatments are (never expiring, found
by ``_id`` whatever their age), never sent to the lake. API v3 serves the same collections
(:mod:`glucosestream.ingest.api.nightscout_v3`); each API sees what the other wrote.

As Nightscout (``lib/api/profile``, ``lib/api/food``): reading needs ``readable``; writing
needs the admin role or the API secret (Nightscout's ``api:profile:create|update|delete`` and
``api:food:…``, which no other default role holds). A POST or PUT stores one document or an
array, each kept as sent plus ``_id``, ``created_at``, ``mills``, ``date`` and ``srvModified``,
and replaces the stored document with its ``_id`` (PUT requires the ``_id``), as Nightscout's
``replaceOne``/upsert does. A profile without a ``store`` object is refused with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glucosestream.ingest import nightscout_documents
from glucosestream.ingest.api.documents import Document
from glucosestream.ingest.api.nightscout_auth import READ, WRITE_FOOD, WRITE_PROFILE, Credentials
from glucosestream.ingest.nightscout_find import FOOD, PROFILE, FindError, matches, parse_find

if TYPE_CHECKING:
    from glucosestream.ingest.api.service import Answer, IngestService

PROFILES_DEFAULT_COUNT = 10
"""Nightscout's ``PROFILES_DEFAULT_COUNT``: profiles a GET answers without ``count``."""
MAX_KEPT = 5000
"""Profiles or foods one GET reads at most (a food database, years of profile changes)."""
WRITE = {"profile": WRITE_PROFILE, "food": WRITE_FOOD}
SEARCHABLE = {"profile": PROFILE, "food": FOOD}


class NightscoutProfiles:
    def __init__(self, service: IngestService) -> None:
        self.service = service

    def _patient(self, credentials: Credentials | str | None, permission: str) -> str | Answer:
        from glucosestream.ingest.api.service import Answer

        principal = self.service.nightscout_caller(credentials, permission)
        if isinstance(principal, Answer):
            return principal
        return self.service.site_pseudonym(principal)

    # -- reads ----------------------------------------------------------------------------------

    def list(
        self,
        credentials: Credentials | str | None,
        collection: str,
        count: int | None = None,
        query: dict[str, list[str]] | None = None,
    ) -> Answer:
        """``GET /api/v1/profile``: the newest ``count`` profiles (10 by default), newest first;
        ``GET /api/v1/food``: every food, oldest first (Nightscout's stored order). Both filter
        by ``find`` with no default date window: a profile set months ago is the current one."""
        from glucosestream.ingest.api.service import Answer, refuse

        patient = self._patient(credentials, READ)
        if isinstance(patient, Answer):
            return patient
        if count is not None and not 1 <= count <= self.service.limits.max_count:
            return refuse(400, f"count must be within 1-{self.service.limits.max_count}")
        try:
            conditions = parse_find(
                query or {}, self.service.clock_ms(), SEARCHABLE[collection], default_window=False
            )
        except FindError as error:
            return refuse(400, f"find: {error}")
        stored = self.service.documents.newest(patient, collection, limit=MAX_KEPT)
        found = [d.body for d in stored if matches(d.body, conditions)][:count]
        if collection == "food":
            found.reverse()
        return Answer(200, found)

    def current(self, credentials: Credentials | str | None) -> Answer:
        """``GET /api/v1/profile/current``: the newest profile document, or ``null`` when none
        is stored (as Nightscout answers)."""
        from glucosestream.ingest.api.service import Answer

        patient = self._patient(credentials, READ)
        if isinstance(patient, Answer):
            return patient
        newest = self.service.documents.newest(patient, "profile", limit=1)
        return Answer(200, newest[0].body if newest else None)

    def quickpicks(self, credentials: Credentials | str | None, *, regular: bool) -> Answer:
        """``GET /api/v1/food/quickpicks`` (visible quick picks by ``position``) and
        ``/food/regular`` (``type: food``), as Nightscout's food editor and careportal read."""
        from glucosestream.ingest.api.service import Answer

        every = self.list(credentials, "food")
        if every.status != 200:
            return every
        foods: list[dict[str, Any]] = every.body
        if regular:
            return Answer(200, [f for f in foods if f.get("type") == "food"])
        picks = [
            f
            for f in foods
            if f.get("type") == "quickpick" and f.get("hidden") in (False, "false", None)
        ]
        picks.sort(key=lambda f: _position(f.get("position")))
        return Answer(200, picks)

    # -- writes ---------------------------------------------------------------------------------

    def store(
        self,
        credentials: Credentials | str | None,
        collection: str,
        body: bytes,
        *,
        replace: bool = False,
    ) -> Answer:
        """``POST`` (``replace=False``) or ``PUT /api/v1/profile|food``: one document or an
        array, answered with the stored documents (Nightscout's 200). A document replaces the
        stored one with its ``_id`` even when its time changed; ``PUT`` needs each ``_id``. A
        refused document is listed in ``X-Rejected`` beside the good ones; none good: 400."""
        from glucosestream.ingest.api.service import Answer, _with_rejections, refuse

        patient = self._patient(credentials, WRITE[collection])
        if isinstance(patient, Answer):
            return patient
        items = self.service._items(body, single_object_ok=True)
        if isinstance(items, Answer):
            return items
        if replace:
            for index, item in enumerate(items):
                if not isinstance(item, dict) or not isinstance(item.get("_id"), str):
                    return refuse(
                        400,
                        f"item {index}: a PUT replaces the {collection} document with its _id; "
                        "send the _id (POST stores a new one)",
                    )
        now = self.service.clock_ms()
        documents, refusals = nightscout_documents.documents_of(items, collection, now)
        rejected = [r.as_dict() for r in refusals]
        if not documents:
            return refuse(400, f"no {collection} document was accepted", rejected=rejected)
        # Of one _id, the last sent stays (Nightscout applies them one after another).
        latest = {d.identifier: d for d in documents}
        stored = self.service.documents.with_identifiers(patient, collection, latest)
        # An edit's version is later than the one it replaces (history keeps one version per
        # srvModified and identifier), even within the same millisecond.
        modified = {d.identifier: self.service.next_version_ms(d) for d in stored}
        sent = {
            identifier: Document(
                d.date_ms,
                identifier,
                {
                    **d.body,
                    "identifier": identifier,
                    "date": d.date_ms,
                    "srvModified": modified.get(identifier, now),
                },
                modified.get(identifier, now),
            )
            for identifier, d in latest.items()
        }
        moved = [d for d in stored if sent[d.identifier].date_ms != d.date_ms]
        failed = self.service.store_documents(
            patient, collection, list(sent.values()), edits={d.identifier for d in stored}
        )
        if failed is not None:
            return failed
        self.service.documents.remove(patient, collection, moved)
        return _with_rejections(Answer(200, [d.body for d in sent.values()]), rejected)

    def delete(
        self, credentials: Credentials | str | None, collection: str, identifier: str
    ) -> Answer:
        """``DELETE /api/v1/profile/<_id>`` and ``/food/<_id>``: gone from the GETs; API v3's
        history lists it with ``isValid: false`` (AndroidAPS drops it). ``{"n": 0|1, "ok": 1}``
        (``n: 0`` when not there, so a retried delete is harmless)."""
        from glucosestream.ingest.api.service import Answer

        patient = self._patient(credentials, WRITE[collection])
        if isinstance(patient, Answer):
            return patient
        return self.service.delete_by_identifier(patient, collection, identifier)


def _position(value: Any) -> float:
    """A quick pick's ``position`` as a number (the food editor stores it as either)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")
