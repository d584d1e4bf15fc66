"""Nightscout authentication as its clients use it: the API secret, access tokens and JWTs.

- **API secret** (admin): ``api-secret: <SHA-1 of the secret>`` header (or its SHA-512), or
  ``?secret=<SHA-1>``.
- **Access token**: ``?token=<name>-<16 hex>`` (or the token, or its SHA-1, as ``api-secret``:
  xDrip+ hashes a token written in its base URL), a subject with roles, as Nightscout's admin
  page issues them. Tokens here are derived, not stored: ``<name>-`` + the first 16 hex digits of
  HMAC-SHA256(secret's SHA-1, name) — as Nightscout derives its tokens from API_SECRET, so
  changing the secret revokes every token. ``glucosestream api nightscout-token NAME`` prints one;
  ``GS_INGEST_NIGHTSCOUT_TOKENS`` (``{"follower": ["readable"]}``) says which names exist with
  which roles, so removing a name revokes its token.
- **JWT**: ``GET /api/v2/authorization/request/<token>`` answers a JWT (HS256, 8 hours) that
  clients then send as ``Authorization: Bearer <JWT>``; it carries the subject's name, whose
  roles are looked up again on every request.

Roles and what they allow (Nightscout's defaults): ``readable`` reads everything;
``careportal`` creates treatments; ``devicestatus-upload`` creates device status; ``admin``
(and the API secret) does everything, deleting treatments and writing profiles and foods
included (in Nightscout no other default role may: a profile sets the basal, targets and
ratios a loop doses by). Every credential belongs
to the one Nightscout site, i.e. one tenant's one patient: no credential of a site reaches
another site's data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from glucosestream.ingest.api.auth import AuthConfigError, NightscoutSecret, Principal

READ = "read"
CREATE_ENTRIES = "entries:create"
CREATE_TREATMENTS = "treatments:create"
CREATE_DEVICESTATUS = "devicestatus:create"
DELETE_TREATMENTS = "treatments:delete"
DELETE_ENTRIES = "entries:delete"
WRITE_PROFILE = "profile:write"
"""Create, replace and delete profiles (Nightscout's ``api:profile:create|update|delete``)."""
WRITE_FOOD = "food:write"
"""Create, replace and delete foods (Nightscout's ``api:food:create|update|delete``)."""
ROLES: dict[str, frozenset[str]] = {
    "readable": frozenset({READ}),
    "careportal": frozenset({CREATE_TREATMENTS}),
    "devicestatus-upload": frozenset({CREATE_DEVICESTATUS}),
    "admin": frozenset(
        {
            READ,
            CREATE_ENTRIES,
            CREATE_TREATMENTS,
            CREATE_DEVICESTATUS,
            DELETE_TREATMENTS,
            DELETE_ENTRIES,
            WRITE_PROFILE,
            WRITE_FOOD,
        }
    ),
}
JWT_LIFETIME_S = 8 * 3600
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.]{0,39}$")
_TOKEN = re.compile(r"^([a-z0-9][a-z0-9_.]{0,39})-([0-9a-f]{16})$")


@dataclass(frozen=True)
class Credentials:
    """Whatever a Nightscout client sent to prove who it is."""

    api_secret: str | None = None
    """The ``api-secret`` header."""
    secret_parameter: str | None = None
    """``?secret=`` (the same SHA-1)."""
    token: str | None = None
    """``?token=``."""
    authorization: str | None = None
    """The ``Authorization`` header (``Bearer <JWT>``)."""

    def any(self) -> bool:
        return any((self.api_secret, self.secret_parameter, self.token, self.authorization))


@dataclass(frozen=True)
class Caller:
    principal: Principal
    subject: str
    """``api-secret`` or the token's name."""
    permissions: frozenset[str]

    def may(self, permission: str) -> bool:
        return permission in self.permissions


class Refused(Exception):
    """Credentials that prove nothing (401); the message says which and why."""


class NightscoutAuth:
    def __init__(self, secret: NightscoutSecret, tokens: Mapping[str, frozenset[str]]) -> None:
        self.secret = secret
        self.tokens = dict(tokens)
        self._key = secret.sha1_hex.encode()
        self._jwt_key = hmac.new(self._key, b"jwt", hashlib.sha256).digest()

    @classmethod
    def configure(cls, secret: NightscoutSecret, tokens: Mapping[str, Any]) -> NightscoutAuth:
        """``tokens``: name → list of roles (``GS_INGEST_NIGHTSCOUT_TOKENS``); refused at
        start-up when a name or a role is not one Nightscout would accept."""
        roles_of: dict[str, frozenset[str]] = {}
        for name, roles in tokens.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise AuthConfigError(
                    f"token name {name!r}: lowercase letters, digits, '_' or '.', up to 40"
                )
            if not isinstance(roles, list) or not roles:
                raise AuthConfigError(f"token {name}: roles must be a non-empty list")
            unknown = sorted(set(map(str, roles)) - set(ROLES))
            if unknown:
                raise AuthConfigError(
                    f"token {name}: unknown role {unknown[0]}; roles are {', '.join(ROLES)}"
                )
            roles_of[name] = frozenset(str(r) for r in roles)
        return cls(secret, roles_of)

    def token_for(self, name: str) -> str:
        digest = hmac.new(self._key, name.encode(), hashlib.sha256).hexdigest()[:16]
        return f"{name}-{digest}"

    def authenticate(self, credentials: Credentials, now_s: int) -> Caller:
        """The caller the credentials prove, or :class:`Refused`."""
        if credentials.api_secret or credentials.secret_parameter:
            presented = credentials.api_secret or credentials.secret_parameter
            if presented and presented.startswith("token="):
                return self._token_caller(presented.removeprefix("token="))
            if self.secret.authenticate(presented) is not None:
                return Caller(self.secret.principal, "api-secret", ROLES["admin"])
            token = self._token_presented_as_secret(presented or "")
            if token is not None:
                return self._token_caller(token)
            raise Refused("api-secret does not match the API secret or an access token")
        if credentials.token:
            return self._token_caller(credentials.token)
        if credentials.authorization:
            scheme, _, value = credentials.authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Refused("Authorization must be 'Bearer <JWT>'")
            return self._jwt_caller(value.strip(), now_s)
        raise Refused("missing api-secret header, secret, token or Authorization")

    def issue_jwt(self, token: str, now_s: int) -> dict[str, Any]:
        """``/api/v2/authorization/request/<token>``: a JWT for a valid access token."""
        caller = self._token_caller(token)
        claims = {"accessToken": token, "sub": caller.subject, "iat": now_s}
        claims["exp"] = now_s + JWT_LIFETIME_S
        encoded = jwt.encode(claims, self._jwt_key, algorithm="HS256")
        return {
            "token": encoded,
            "sub": caller.subject,
            "permissionGroups": [sorted(caller.permissions)],
            "iat": now_s,
            "exp": claims["exp"],
        }

    def _token_presented_as_secret(self, presented: str) -> str | None:
        """The access token an ``api-secret`` stands for: the token itself, or its SHA-1 — as
        Nightscout accepts (``doesAccessTokenExist``), and as xDrip+ sends a token written in
        its base URL (``https://<token>@host/api/v1/``, hashed like a secret). None: no
        configured token."""
        presented = presented.strip()
        if _TOKEN.match(presented):
            return presented
        digest = presented.lower().encode()
        for name in self.tokens:
            token = self.token_for(name)
            token_sha1 = hashlib.sha1(token.encode()).hexdigest()  # noqa: S324 - the protocol's
            if hmac.compare_digest(digest, token_sha1.encode()):
                return token
        return None

    def _token_caller(self, token: str) -> Caller:
        match = _TOKEN.match(token.strip())
        if match is None:
            raise Refused("token is not <name>-<16 hex digits>")
        name = match.group(1)
        if not hmac.compare_digest(self.token_for(name), token.strip()):
            raise Refused("token does not match")
        roles = self.tokens.get(name)
        if roles is None:
            raise Refused(f"token {name} is not configured (GS_INGEST_NIGHTSCOUT_TOKENS)")
        permissions = frozenset().union(*(ROLES[role] for role in roles))
        principal = Principal(
            f"token:{name}", self.secret.principal.tenant, self.secret.principal.patients
        )
        return Caller(principal, name, permissions)

    def _jwt_caller(self, encoded: str, now_s: int) -> Caller:
        try:
            claims = jwt.decode(
                encoded,
                self._jwt_key,
                algorithms=["HS256"],
                # Expiry is judged on the service's clock (below), not the library's.
                options={
                    "require": ["exp", "iat", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise Refused(f"the JWT is not valid ({type(error).__name__})") from None
        if int(claims["exp"]) <= now_s:
            raise Refused("the JWT has expired: request a new one")
        return self._token_caller(str(claims.get("accessToken", "")))
