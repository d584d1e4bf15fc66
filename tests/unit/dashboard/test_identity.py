"""The page's user: the ALB's signed Cognito identity in aws mode, ``local-user`` locally."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from glucosestream.dashboard import resources
from glucosestream.dashboard.identity import (
    LOCAL_USER,
    AlbIdentity,
    IdentityRefused,
    Viewer,
    header,
)
from glucosestream.settings import load_settings

REGION = "eu-west-1"
ALB = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
    "loadbalancer/app/gs-dev-dashboard/50dc6c495c0c9188"
)
SUB = "5f0c1d6e-8a40-4b5e-9a57-0d4c1f2b9e11"
KID = "8f3b1e4c-2d5a-4c6b-9e7f-0a1b2c3d4e5f"
NOW = 1_750_000_000.0
KEY = ec.generate_private_key(ec.SECP256R1())
PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def segment(data: bytes) -> str:
    # The ALB pads its base64url segments ('='), unlike JWS: the reader must take both.
    return base64.urlsafe_b64encode(data).decode()


def alb_token(*, sub: str = SUB, signer: str = ALB, exp: float = NOW + 120, key: Any = KEY) -> str:
    """An ``x-amzn-oidc-data`` JWT as the ALB builds it (ES256, signer and exp in the header)."""
    head = {"alg": "ES256", "kid": KID, "signer": signer, "iss": "https://cognito", "exp": exp}
    claims = {"sub": sub, "email": "clinician@example.org", "exp": exp}
    signed = f"{segment(json.dumps(head).encode())}.{segment(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signed}.{segment(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class KeyServer:
    def __init__(self) -> None:
        self.fetched: list[tuple[str, str]] = []

    def __call__(self, region: str, key_id: str) -> bytes:
        self.fetched.append((region, key_id))
        return PEM


def identity(keys: KeyServer | None = None, alb: str | None = ALB) -> AlbIdentity:
    return AlbIdentity(REGION, alb, fetch_key=keys or KeyServer(), now=lambda: NOW)


def alb_headers(token: str, sub: str = SUB) -> dict[str, str]:
    # Tornado hands Bokeh the names in this case.
    return {"X-Amzn-Oidc-Identity": sub, "X-Amzn-Oidc-Data": token, "Host": "dash.example.org"}


def test_a_signed_identity_is_the_user_and_the_key_is_fetched_once() -> None:
    keys = KeyServer()
    reader = identity(keys)
    assert reader(alb_headers(alb_token())) == Viewer(SUB)
    assert reader(alb_headers(alb_token())) == Viewer(SUB)
    assert keys.fetched == [(REGION, KID)]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no signed-in user"),
        ({"X-Amzn-Oidc-Identity": SUB}, "no signed-in user"),
        (alb_headers("not-a-jwt"), "not a JWT"),
        (alb_headers(alb_token(sub="someone-else")), "does not match the signed token"),
        (alb_headers(alb_token(signer=ALB.replace("123456789012", "999999999999"))), "another"),
        (alb_headers(alb_token(exp=NOW - 3600)), "expired"),
        (alb_headers(alb_token(key=ec.generate_private_key(ec.SECP256R1()))), "does not verify"),
    ],
)
def test_anything_unproven_is_refused(headers: Mapping[str, str], reason: str) -> None:
    viewer = identity()(headers)
    assert viewer.user_id is None
    assert viewer.problem is not None
    assert reason in viewer.problem


def test_a_claim_edited_after_signing_is_refused() -> None:
    head, _, signature = alb_token().split(".")
    forged = segment(json.dumps({"sub": "admin", "exp": NOW + 60}).encode())
    with pytest.raises(IdentityRefused, match="does not verify"):
        identity().verify(alb_headers(f"{head}.{forged}.{signature}", sub="admin"))


def test_the_arn_up_to_the_name_accepts_that_load_balancer_only() -> None:
    prefix = ALB.rsplit("/", 1)[0] + "/"
    assert identity(alb=prefix).verify(alb_headers(alb_token())) == SUB
    for signer in (prefix, prefix.replace("gs-dev-dashboard", "gs-dev-dashboard-2") + "1/"):
        with pytest.raises(IdentityRefused, match="another load balancer"):
            identity(alb=prefix).verify(alb_headers(alb_token(signer=signer)))


def test_without_the_alb_arn_nobody_is_trusted() -> None:
    with pytest.raises(IdentityRefused, match="GS_DASHBOARD_ALB_ARN"):
        identity(alb=None).verify(alb_headers(alb_token()))


def test_header_names_are_case_insensitive_and_repeats_refused() -> None:
    assert header({"x-amzn-oidc-identity": "a"}, "x-amzn-oidc-identity") == "a"
    assert header({"X-AMZN-OIDC-IDENTITY": ["a"]}, "x-amzn-oidc-identity") == "a"
    with pytest.raises(IdentityRefused, match="appears 2 times"):
        header({"X-Amzn-Oidc-Identity": ["a", "b"]}, "x-amzn-oidc-identity")


def test_the_mode_chooses_the_reader() -> None:
    local = resources.viewer_for(load_settings(env="test"))
    assert local({"X-Amzn-Oidc-Identity": SUB}) == Viewer(LOCAL_USER)  # locally: no sign-in
    aws = resources.viewer_for(
        load_settings(env="test", mode="aws", pseudonym_key="k" * 32, dashboard_alb_arn=ALB)
    )
    assert isinstance(aws, AlbIdentity)
    assert aws.alb_arn == ALB
