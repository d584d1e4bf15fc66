"""Who is looking: the user whose privacy budget a release is charged to.

In aws mode the dashboard sits behind an ALB whose listener authenticates every request with
Cognito and then adds two headers (AWS: "Authenticate users using an Application Load
Balancer"): ``x-amzn-oidc-identity``, the user's ``sub``, and ``x-amzn-oidc-data``, the user's
claims as a JWT the ALB signs with ES256. A header alone proves nothing (a client can send
one, and a Bokeh session token carries the headers it was created with), so :class:`AlbIdentity`
accepts a user only when the JWT's signature verifies with the region's ALB public key
(``https://public-keys.auth.elb.<region>.amazonaws.com/<kid>``), its ``signer`` is this
dashboard's load balancer (any ALB in any account signs with the same regional keys), it has not
expired, and its ``sub`` equals the identity header. Anything else: no user, and privacy
releases are refused with the reason.

Locally there is no sign-in: every page is :data:`LOCAL_USER`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

LOCAL_USER = "local-user"
IDENTITY_HEADER = "x-amzn-oidc-identity"
DATA_HEADER = "x-amzn-oidc-data"
CLOCK_SKEW_S = 60
KEY_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

Headers = Mapping[str, str | list[str]]


class IdentityRefused(ValueError):
    """The request carries no identity this dashboard can trust; the message says why."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The user of one page: ``user_id``, or the reason there is none (releases refused)."""

    user_id: str | None
    problem: str | None = None


def header(headers: Headers, name: str) -> str | None:
    """One header's value, whatever the case of its name; a repeated header is refused."""
    found = [value for key, value in headers.items() if key.lower() == name]
    if not found:
        return None
    values = [v for value in found for v in ([value] if isinstance(value, str) else value)]
    if len(values) != 1:
        raise IdentityRefused(f"the {name} header appears {len(values)} times")
    return values[0]


def _b64decode(part: str) -> bytes:
    # The ALB pads its base64url segments with '=' (JWS does not): accept both.
    stripped = part.rstrip("=")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


def alb_public_key(region: str, key_id: str) -> bytes:
    """The PEM public key an ALB of ``region`` signs ``x-amzn-oidc-data`` with."""
    if not REGION.match(region) or not KEY_ID.match(key_id):
        raise IdentityRefused("malformed key id in the identity token")
    url = f"https://public-keys.auth.elb.{region}.amazonaws.com/{key_id}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


class AlbIdentity:
    """Reads the user from the ALB's headers, trusting only what its signed JWT confirms."""

    def __init__(
        self,
        region: str,
        alb_arn: str | None,
        *,
        fetch_key: Callable[[str, str], bytes] = alb_public_key,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.region = region
        self.alb_arn = alb_arn
        self._fetch_key = fetch_key
        self._now = now
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._lock = threading.Lock()

    def __call__(self, headers: Headers) -> Viewer:
        try:
            return Viewer(self.verify(headers))
        except IdentityRefused as refused:
            return Viewer(None, str(refused))

    def _key(self, key_id: str) -> ec.EllipticCurvePublicKey:
        with self._lock:
            cached = self._keys.get(key_id)
        if cached is not None:
            return cached
        try:
            key = load_pem_public_key(self._fetch_key(self.region, key_id))
        except (OSError, ValueError) as error:
            raise IdentityRefused(
                f"cannot fetch the ALB public key {key_id}: {type(error).__name__}"
            ) from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise IdentityRefused(f"the ALB public key {key_id} is not an EC key")
        with self._lock:
            self._keys[key_id] = key
        return key

    def _is_our_load_balancer(self, signer: str) -> bool:
        expected = self.alb_arn or ""
        if expected.endswith("/"):
            # The ARN up to the name: any id of that name (unique per account and region).
            rest = signer.removeprefix(expected)
            return rest != signer and rest != "" and "/" not in rest
        return signer == expected

    def verify(self, headers: Headers) -> str:
        """The verified user id (Cognito ``sub``); :class:`IdentityRefused` otherwise."""
        if not self.alb_arn:
            raise IdentityRefused(
                "GS_DASHBOARD_ALB_ARN is not set, so the signed-in user cannot be verified"
            )
        identity = header(headers, IDENTITY_HEADER)
        token = header(headers, DATA_HEADER)
        if not identity or not token:
            raise IdentityRefused("no signed-in user (the load balancer's identity headers)")
        parts = token.split(".")
        if len(parts) != 3:
            raise IdentityRefused("the identity token is not a JWT")
        try:
            jwt_header: dict[str, Any] = json.loads(_b64decode(parts[0]))
            claims: dict[str, Any] = json.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
            signed = f"{parts[0]}.{parts[1]}".encode("ascii")
        except (binascii.Error, ValueError):
            raise IdentityRefused("the identity token is not a JWT") from None
        if jwt_header.get("alg") != "ES256" or len(signature) != 64:
            raise IdentityRefused("the identity token is not signed with ES256")
        if not self._is_our_load_balancer(str(jwt_header.get("signer", ""))):
            raise IdentityRefused("the identity token was signed by another load balancer")
        key = self._key(str(jwt_header.get("kid", "")))
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise IdentityRefused("the identity token's signature does not verify") from None
        expires = jwt_header.get("exp", claims.get("exp"))
        if not isinstance(expires, int | float) or expires + CLOCK_SKEW_S < self._now():
            raise IdentityRefused("the identity token has expired: reload the page")
        if claims.get("sub") != identity:
            raise IdentityRefused("the identity header does not match the signed token")
        return identity


LOCAL_VIEWER = Viewer(LOCAL_USER)


def local_viewer(headers: Headers) -> Viewer:
    """Local mode: no sign-in, one user."""
    return LOCAL_VIEWER
