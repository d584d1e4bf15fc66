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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import GlucoseReading
from glucosestream.ingest import nightscout
from glucosestream.ingest.api.auth import ApiKeys, NightscoutSecret, Principal
from glucosestream.ingest.api.ratelimit import RateLimiter, retry_after_header
from glucosestream.ingest.api.readings import Validated, validate_items
from glucosestream.ingest.api.recent import RecentReadings

UNAVAILABLE_RETRY_AFTER_S = 5
MAX_REJECTIONS_IN_HEADER = 10


class StreamUnavailable(RuntimeError):
    """The stream did not take the readings; ``sent`` of them had got through before."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


Publisher = Callable[[list[GlucoseReading]], None]
"""Puts every reading on the stream or raises StreamUnavailable."""


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_items: int = 2016
    max_count: int = 2016
    """Largest ``count`` of GET entries (the recent store's bound)."""


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def refuse(status: int, message: str, **extra: Any) -> Answer:
    return Answer(status, {"status": status, "message": message, **extra})


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class IngestService:
    def __init__(
        self,
        keys: ApiKeys,
        nightscout_secret: NightscoutSecret | None,
        publish: Publisher,
        recent: RecentReadings,
        limiter: RateLimiter,
        pseudonym_key: bytes,
        limits: Limits | None = None,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self.keys = keys
        self.nightscout_secret = nightscout_secret
        self.publish = publish
        self.recent = recent
        self.limiter = limiter
        self.pseudonym_key = pseudonym_key
        self.limits = limits or Limits()
        self.clock_ms = clock_ms

    # -- shared gates ---------------------------------------------------------------------------

    def _throttled(self, principal: Principal) -> Answer | None:
        wait = self.limiter.acquire(f"{principal.tenant}/{principal.key_id}")
        if wait <= 0:
            return None
        answer = refuse(429, f"rate limit of {self.limiter.rate_per_s:g} requests/s exceeded")
        answer.headers["Retry-After"] = retry_after_header(wait)
        return answer

    def _items(self, body: bytes, *, single_object_ok: bool) -> list[Any] | Answer:
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
        if not document:
            return refuse(400, "empty array: nothing to ingest")
        if len(document) > self.limits.max_items:
            return refuse(
                413, f"{len(document)} items exceed the limit of {self.limits.max_items} a request"
            )
        return document

    def _publish(self, validated: Validated) -> Answer | None:
        readings = [item.reading for item in validated.accepted]
        try:
            self.publish(readings)
        except StreamUnavailable as error:
            answer = refuse(
                503,
                f"the stream is unavailable ({error}); {error.sent} of {len(readings)} valid "
                "readings reached it before it failed. Retry the whole request: readings are "
                "deduplicated by their identity (patient, device, measured_at).",
                accepted=0,
                sent_before_failure=error.sent,
                rejected=[r.as_dict() for r in validated.rejected],
            )
            answer.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_S)
            return answer
        self.recent.add(readings)
        return None

    # -- POST /v1/readings ----------------------------------------------------------------------

    def post_readings(self, api_key: str | None, body: bytes) -> Answer:
        principal = self.keys.authenticate(api_key)
        if principal is None:
            reason = "unknown API key" if api_key else "missing x-api-key header"
            return refuse(401, reason)
        throttled = self._throttled(principal)
        if throttled is not None:
            return throttled
        items = self._items(body, single_object_ok=False)
        if isinstance(items, Answer):
            return items
        validated = validate_items(items, principal, self.pseudonym_key, self.clock_ms())
        rejected = [r.as_dict() for r in validated.rejected]
        if not validated.accepted:
            forbidden = all("may not write" in r.reason for r in validated.rejected)
            status = 403 if forbidden else 422
            return refuse(status, "no item was accepted", accepted=0, rejected=rejected)
        failed = self._publish(validated)
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

    def _nightscout_principal(self, api_secret: str | None) -> Principal | Answer:
        if self.nightscout_secret is None:
            return refuse(404, "the Nightscout API is not configured (GS_INGEST_NIGHTSCOUT_SECRET)")
        if api_secret and api_secret.startswith("token="):
            return refuse(401, "token authentication is not supported: send api-secret = SHA-1")
        principal = self.nightscout_secret.authenticate(api_secret)
        if principal is None:
            reason = "api-secret does not match" if api_secret else "missing api-secret header"
            return refuse(401, reason)
        return principal

    def _nightscout_caller(self, api_secret: str | None) -> Principal | Answer:
        """The authenticated, not throttled Nightscout caller, or the answer refusing it."""
        principal = self._nightscout_principal(api_secret)
        if isinstance(principal, Answer):
            return principal
        return self._throttled(principal) or principal

    def _nightscout_patient(self, principal: Principal) -> str:
        (patient,) = principal.patients  # a Nightscout secret writes exactly one patient
        return patient

    def post_entries(self, api_secret: str | None, body: bytes) -> Answer:
        principal = self._nightscout_caller(api_secret)
        if isinstance(principal, Answer):
            return principal
        items = self._items(body, single_object_ok=True)
        if isinstance(items, Answer):
            return items
        validated, _skipped = nightscout.validate_entries(
            items, self._nightscout_patient(principal), self.pseudonym_key, self.clock_ms()
        )
        rejected = [r.as_dict() for r in validated.rejected]
        if not validated.accepted and validated.rejected:
            return refuse(400, "no entry was accepted", rejected=rejected)
        if validated.accepted:
            failed = self._publish(validated)
            if failed is not None:
                return failed
        # Nightscout answers the stored entries; uploaders only look at the 200. Rejections of a
        # partly good batch go in a header: a 4xx would make the uploader resend the good ones
        # forever, and the body must stay Nightscout's array.
        answer = Answer(200, nightscout.entries_of([a.reading for a in validated.accepted], 10**9))
        if rejected:
            answer.headers["X-Rejected-Count"] = str(len(rejected))
            # ensure_ascii (json's default) keeps the header value ASCII whatever was sent.
            answer.headers["X-Rejected"] = json.dumps(rejected[:MAX_REJECTIONS_IN_HEADER])
        return answer

    def get_entries(self, api_secret: str | None, count: int) -> Answer:
        principal = self._nightscout_caller(api_secret)
        if isinstance(principal, Answer):
            return principal
        if not 1 <= count <= self.limits.max_count:
            return refuse(400, f"count must be within 1-{self.limits.max_count}")
        patient = pseudonymise(self._nightscout_patient(principal), self.pseudonym_key)
        newest_first = self.recent.latest(patient, count + 1)
        return Answer(200, nightscout.entries_of(newest_first, count))

    def verify_auth(self, api_secret: str | None) -> Answer:
        principal = self._nightscout_principal(api_secret)
        if isinstance(principal, Answer):
            return principal
        return Answer(
            200,
            {
                "status": 200,
                "message": {
                    "canRead": True,
                    "canWrite": True,
                    "isAdmin": False,
                    "message": "OK",
                    "rolefound": "FOUND",
                    "permissions": "ROLE",
                },
            },
        )

    def status(self) -> Answer:
        return Answer(200, nightscout.status_document(self.clock_ms()))
