"""Who may write: API keys per tenant (stored as SHA-256 hashes) and the Nightscout API secret.

Key file (JSON; ``GS_INGEST_API_KEYS_FILE``, or the same document inline in
``GS_INGEST_API_KEYS``)::

    {"keys": [
      {"id": "clinic-7-uploader", "tenant": "clinic-7",
       "sha256": "<hex SHA-256 of the key>", "patient_prefix": "clinic-7/"},
      {"id": "home-alice", "tenant": "alice", "sha256": "...", "patients": ["alice"]}
    ]}

A key may write the source patient ids listed in ``patients`` and those starting with
``patient_prefix``: a tenant can only write its own patients. Only hashes are stored, so a leaked
key file does not leak keys. ``glucosestream api hash-key`` prints the hash of a new key.

Nightscout: uploaders send ``api-secret: <lowercase hex SHA-1 of the secret>``. The secret is
configured in plain (``GS_INGEST_NIGHTSCOUT_SECRET``, as Nightscout's ``API_SECRET``) so that its
length can be checked at start-up (Nightscout refuses secrets under 12 characters); only its SHA-1
is kept. One secret = one Nightscout site = one person, so it writes one source patient id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIN_NIGHTSCOUT_SECRET_LENGTH = 12
_HEX = frozenset("0123456789abcdef")


class AuthConfigError(ValueError):
    """The key file or the Nightscout secret is unusable; refused at start-up."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: its tenant and the source patient ids it may write."""

    key_id: str
    tenant: str
    patients: frozenset[str] = frozenset()
    patient_prefix: str | None = None

    def may_write(self, source_patient_id: str) -> bool:
        if source_patient_id in self.patients:
            return True
        return (
            self.patient_prefix is not None
            and source_patient_id.startswith(self.patient_prefix)
            and not self.is_bare_prefix(source_patient_id)
        )

    def is_bare_prefix(self, source_patient_id: str) -> bool:
        """The tenant's prefix alone (``clinic-7/``): no patient's id, so never written."""
        return source_patient_id == self.patient_prefix and source_patient_id not in self.patients


def sha256_hex(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and set(text) <= _HEX


def _principal(entry: Any, position: int) -> tuple[str, Principal]:
    where = f"keys[{position}]"
    if not isinstance(entry, Mapping):
        raise AuthConfigError(f"{where} is not an object")
    digest = entry.get("sha256")
    tenant = entry.get("tenant")
    if not isinstance(digest, str) or not _is_hex(digest, 64):
        raise AuthConfigError(f"{where}.sha256 must be 64 lowercase hex digits (SHA-256)")
    if not isinstance(tenant, str) or not tenant:
        raise AuthConfigError(f"{where}.tenant must be a non-empty string")
    patients = entry.get("patients", [])
    prefix = entry.get("patient_prefix")
    if not isinstance(patients, list) or not all(isinstance(p, str) and p for p in patients):
        raise AuthConfigError(f"{where}.patients must be a list of non-empty strings")
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        # An empty prefix would let the key write every tenant's patients.
        raise AuthConfigError(f"{where}.patient_prefix must be a non-empty string")
    if not patients and prefix is None:
        raise AuthConfigError(f"{where} names neither patients nor a patient_prefix")
    key_id = entry.get("id", f"{tenant}#{position}")
    return digest, Principal(str(key_id), tenant, frozenset(patients), prefix)


class ApiKeys:
    """The hashed API keys; :meth:`authenticate` maps a presented key to its principal."""

    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self._by_hash = dict(principals)

    @classmethod
    def from_document(cls, document: Any) -> ApiKeys:
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise AuthConfigError('the API key document must be {"keys": [...]}')
        principals: dict[str, Principal] = {}
        for position, entry in enumerate(document["keys"]):
            digest, principal = _principal(entry, position)
            if digest in principals:
                raise AuthConfigError(f"keys[{position}] repeats the hash of another key")
            principals[digest] = principal
        return cls(principals)

    @classmethod
    def from_json(cls, text: str) -> ApiKeys:
        try:
            return cls.from_document(json.loads(text))
        except json.JSONDecodeError as error:
            raise AuthConfigError(f"the API key document is not JSON: {error}") from None

    @classmethod
    def empty(cls) -> ApiKeys:
        return cls({})

    def __len__(self) -> int:
        return len(self._by_hash)

    def authenticate(self, presented: str | None) -> Principal | None:
        if not presented:
            return None
        # A dict lookup by the digest leaks no timing about the key itself: the caller cannot
        # choose digests, and equal digests mean equal keys.
        return self._by_hash.get(sha256_hex(presented))


@dataclass(frozen=True)
class NightscoutSecret:
    """The SHA-1 (and SHA-512) of the Nightscout API secret and the source patient it writes.

    Clients send the secret's SHA-1 (xDrip+, AndroidAPS, Loop); Nightscout accepts its SHA-512
    too (``enclave.isApiKey``), so some tools send that."""

    sha1_hex: str
    principal: Principal
    sha512_hex: str = ""

    @classmethod
    def configure(cls, secret: str, patient_id: str, tenant: str) -> NightscoutSecret:
        if len(secret) < MIN_NIGHTSCOUT_SECRET_LENGTH:
            raise AuthConfigError(
                f"the Nightscout API secret must be at least {MIN_NIGHTSCOUT_SECRET_LENGTH} "
                f"characters (got {len(secret)}), as Nightscout requires"
            )
        digest = hashlib.sha1(secret.encode()).hexdigest()  # noqa: S324 - Nightscout's protocol
        principal = Principal("nightscout", tenant, frozenset({patient_id}))
        return cls(digest, principal, hashlib.sha512(secret.encode()).hexdigest())

    def authenticate(self, header: str | None) -> Principal | None:
        if not header:
            return None
        presented = header.strip().lower().encode()
        # Constant time: the header is compared with the secret's hashes themselves.
        for digest in (self.sha1_hex, self.sha512_hex):
            if digest and hmac.compare_digest(presented, digest.encode()):
                return self.principal
        return None
