"""API keys stored hashed, tenants limited to their own patients, the Nightscout secret."""

from __future__ import annotations

import hashlib

import pytest

from glucosestream.ingest.api.auth import ApiKeys, AuthConfigError, NightscoutSecret, sha256_hex
from tests.unit.ingest.support import CLINIC_KEY, HOME_KEY, KEY_DOCUMENT


def test_a_key_authenticates_as_its_tenant_and_writes_only_its_patients() -> None:
    keys = ApiKeys.from_document(KEY_DOCUMENT)
    clinic = keys.authenticate(CLINIC_KEY)
    alice = keys.authenticate(HOME_KEY)
    assert clinic is not None
    assert clinic.tenant == "clinic-7"
    assert clinic.may_write("clinic-7/patient-0001")
    assert not clinic.may_write("clinic-8/patient-0001")
    assert not clinic.may_write("alice")
    assert alice is not None
    assert alice.may_write("alice")
    assert not alice.may_write("alice2")


@pytest.mark.parametrize("presented", [None, "", "clinic-7-uploader", sha256_hex(CLINIC_KEY)])
def test_missing_wrong_or_hash_instead_of_key_is_refused(presented: str | None) -> None:
    assert ApiKeys.from_document(KEY_DOCUMENT).authenticate(presented) is None


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({}, "keys"),
        ({"keys": [{"tenant": "t", "sha256": "abc", "patients": ["p"]}]}, "64 lowercase hex"),
        ({"keys": [{"tenant": "", "sha256": "a" * 64, "patients": ["p"]}]}, "tenant"),
        ({"keys": [{"tenant": "t", "sha256": "a" * 64}]}, "neither patients nor"),
        ({"keys": [{"tenant": "t", "sha256": "a" * 64, "patient_prefix": ""}]}, "non-empty"),
        (
            {
                "keys": [
                    {"tenant": "t", "sha256": "a" * 64, "patients": ["p"]},
                    {"tenant": "u", "sha256": "a" * 64, "patients": ["q"]},
                ]
            },
            "repeats",
        ),
    ],
)
def test_bad_key_documents_are_refused_with_the_reason(document: object, reason: str) -> None:
    with pytest.raises(AuthConfigError, match=reason):
        ApiKeys.from_document(document)


def test_key_document_that_is_not_json() -> None:
    with pytest.raises(AuthConfigError, match="not JSON"):
        ApiKeys.from_json("{keys: [")


def test_nightscout_secret_under_12_characters_is_refused_at_configuration() -> None:
    with pytest.raises(AuthConfigError, match="at least 12"):
        NightscoutSecret.configure("short-secr", "alice", "alice")


def test_nightscout_api_secret_header_is_the_sha1_of_the_secret() -> None:
    secret = NightscoutSecret.configure("correct-horse-battery", "alice", "alice")
    header = hashlib.sha1(b"correct-horse-battery").hexdigest()
    principal = secret.authenticate(header)
    assert principal is not None
    assert principal.may_write("alice")
    assert secret.authenticate("correct-horse-battery") is None  # the plain secret is not it
    assert secret.authenticate(hashlib.sha1(b"wrong-horse-battery").hexdigest()) is None
    assert secret.authenticate(None) is None
