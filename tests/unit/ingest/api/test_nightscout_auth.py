"""Nightscout credentials: the API secret (header or parameter), derived access tokens with
roles, and JWTs from /api/v2/authorization/request — 401 for what proves nothing, 403 for a
role that does not allow the call."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import jwt
import pytest

from glucosestream.ingest.api.auth import AuthConfigError, NightscoutSecret
from glucosestream.ingest.api.nightscout_auth import Credentials, NightscoutAuth, Refused
from glucosestream.ingest.api.service import IngestService
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

Make = Callable[..., IngestService]
SHA1 = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
TOKENS = {"follower": ["readable"], "carer": ["careportal"], "rig": ["admin"]}
NOW_S = NOW_MS // 1000


@pytest.fixture
def auth() -> NightscoutAuth:
    return NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"), TOKENS
    )


@pytest.fixture
def service(make_service: Make, auth: NightscoutAuth) -> IngestService:
    built = make_service()
    built.nightscout_auth = auth
    return built


def test_tokens_are_derived_from_the_secret_and_name(auth: NightscoutAuth) -> None:
    token = auth.token_for("follower")
    name, digest = token.rsplit("-", 1)
    assert name == "follower"
    assert len(digest) == 16
    other_site = NightscoutAuth.configure(
        NightscoutSecret.configure("another-site-secret", "bob", "bob"), TOKENS
    )
    assert other_site.token_for("follower") != token  # a new secret revokes every token


@pytest.mark.parametrize(
    ("way", "subject"),
    [
        ("api-secret header", "api-secret"),
        ("secret parameter", "api-secret"),
        ("token parameter", "follower"),
        ("token= in the api-secret header", "follower"),
        ("the token as api-secret", "follower"),
        ("the token's SHA-1 as api-secret (xDrip+, token in the base URL)", "follower"),
        ("the secret's SHA-512 as api-secret", "api-secret"),
    ],
)
def test_every_way_clients_send_credentials(auth: NightscoutAuth, way: str, subject: str) -> None:
    token = auth.token_for("follower")
    credentials = {
        "api-secret header": Credentials(api_secret=SHA1),
        "secret parameter": Credentials(secret_parameter=SHA1.upper()),
        "token parameter": Credentials(token=token),
        "token= in the api-secret header": Credentials(api_secret=f"token={token}"),
        "the token as api-secret": Credentials(api_secret=token),
        "the token's SHA-1 as api-secret (xDrip+, token in the base URL)": Credentials(
            api_secret=hashlib.sha1(token.encode()).hexdigest()
        ),
        "the secret's SHA-512 as api-secret": Credentials(
            api_secret=hashlib.sha512(NIGHTSCOUT_SECRET.encode()).hexdigest().upper()
        ),
    }[way]
    assert auth.authenticate(credentials, NOW_S).subject == subject


def test_a_jwt_is_issued_for_a_token_and_accepted_until_it_expires(
    service: IngestService, auth: NightscoutAuth
) -> None:
    answer = service.request_jwt(auth.token_for("follower"))
    assert answer.status == 200
    assert answer.body["sub"] == "follower"
    assert answer.body["exp"] - answer.body["iat"] == 8 * 3600
    bearer = Credentials(authorization=f"Bearer {answer.body['token']}")
    assert service.get_entries(bearer, 10).status == 200
    later = NightscoutAuth.configure(auth.secret, TOKENS)
    with pytest.raises(Refused, match="expired"):
        later.authenticate(bearer, NOW_S + 8 * 3600)


@pytest.mark.parametrize(
    ("credentials", "reason"),
    [
        (Credentials(), "missing api-secret header, secret, token or Authorization"),
        (Credentials(api_secret="0" * 40), "api-secret does not match"),
        (Credentials(api_secret="0" * 128), "api-secret does not match"),
        (
            Credentials(api_secret=hashlib.sha1(b"stranger-0123456789abcdef").hexdigest()),
            "api-secret does not match",
        ),
        (Credentials(token="follower-0123456789abcdef"), "token does not match"),
        (Credentials(token="follower"), "token is not <name>-<16 hex digits>"),
        (Credentials(authorization="Basic abc"), "Authorization must be 'Bearer <JWT>'"),
        (Credentials(authorization="Bearer not.a.jwt"), "the JWT is not valid"),
    ],
)
def test_credentials_that_prove_nothing_are_401(
    service: IngestService, credentials: Credentials, reason: str
) -> None:
    answer = service.get_entries(credentials, 10)
    assert answer.status == 401
    assert answer.body["message"].startswith(reason)


def test_a_jwt_signed_with_another_key_or_for_a_removed_token_is_401(
    service: IngestService, auth: NightscoutAuth
) -> None:
    forged = jwt.encode(
        {"sub": "rig", "accessToken": auth.token_for("rig"), "iat": NOW_S, "exp": NOW_S + 60},
        b"a guessed key of thirty-two bytes",
        algorithm="HS256",
    )
    assert service.get_entries(Credentials(authorization=f"Bearer {forged}"), 10).status == 401
    issued = service.request_jwt(auth.token_for("carer")).body["token"]
    service.nightscout_auth = NightscoutAuth.configure(auth.secret, {"follower": ["readable"]})
    revoked = service.get_entries(Credentials(authorization=f"Bearer {issued}"), 10)
    assert revoked.status == 401
    assert "not configured" in revoked.body["message"]


def entry() -> bytes:
    return json.dumps([{"type": "sgv", "sgv": 120, "date": NOW_MS - 60_000}]).encode()


def bolus() -> bytes:
    return json.dumps({"eventType": "Bolus", "insulin": 1.0, "date": NOW_MS - 60_000}).encode()


def test_roles_decide_what_a_token_may_do(service: IngestService, auth: NightscoutAuth) -> None:
    def token(name: str) -> Credentials:
        return Credentials(token=auth.token_for(name))

    assert service.post_entries(token("rig"), entry()).status == 200
    assert service.get_entries(token("follower"), 10).status == 200
    refused = service.post_entries(token("follower"), entry())
    assert refused.status == 403
    assert refused.body["message"] == "follower may not entries create"
    assert service.post_documents(token("follower"), "treatments", bolus()).status == 403
    assert service.post_documents(token("carer"), "treatments", bolus()).status == 200
    assert service.get_documents(token("carer"), "treatments", 10).status == 403
    assert service.post_documents(token("carer"), "devicestatus", bolus()).status == 403
    verify = service.verify_auth(token("follower")).body["message"]
    assert (verify["canRead"], verify["canWrite"], verify["isAdmin"]) == (True, False, False)


@pytest.mark.parametrize(
    ("tokens", "reason"),
    [
        ({"Follower": ["readable"]}, "token name 'Follower'"),
        ({"a-b": ["readable"]}, "token name 'a-b'"),
        ({"follower": []}, "roles must be a non-empty list"),
        ({"follower": ["superuser"]}, "unknown role superuser"),
    ],
)
def test_bad_token_configuration_is_refused_at_start_up(tokens: dict, reason: str) -> None:
    secret = NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice")
    with pytest.raises(AuthConfigError, match=reason):
        NightscoutAuth.configure(secret, tokens)
