from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glucosestream.domain.identity import alert_id, pseudonymise, reading_event_id

KEY = b"k" * 32


def test_pseudonym_is_stable_and_keyed() -> None:
    assert pseudonymise("MRN-0042", KEY) == pseudonymise("MRN-0042", KEY)
    assert pseudonymise("MRN-0042", KEY) != pseudonymise("MRN-0042", b"j" * 32)
    assert pseudonymise("MRN-0042", KEY) != pseudonymise("MRN-0043", KEY)


def test_pseudonym_is_hmac_sha256_and_hides_the_source_id() -> None:
    expected = "p_" + hmac.new(KEY, b"MRN-0042", hashlib.sha256).hexdigest()[:32]
    pseudonym = pseudonymise("MRN-0042", KEY)
    assert pseudonym == expected
    assert "MRN" not in pseudonym


@pytest.mark.parametrize(("source", "key"), [("", KEY), ("MRN-1", b"short")])
def test_pseudonym_rejects_empty_ids_and_weak_keys(source: str, key: bytes) -> None:
    with pytest.raises(ValueError, match=r"empty|at least 16 bytes"):
        pseudonymise(source, key)


@given(st.text(min_size=1), st.text(min_size=1), st.integers(min_value=0, max_value=2**62))
def test_event_id_is_a_function_of_the_identity_only(patient: str, device: str, at: int) -> None:
    event_id = reading_event_id(patient, device, at)
    assert event_id == reading_event_id(patient, device, at)
    assert event_id == hashlib.sha256(f"{patient}|{device}|{at}".encode()).hexdigest()[:32]
    assert event_id != reading_event_id(patient, device, at + 1)


def test_alert_id_is_one_per_kind_and_episode() -> None:
    assert alert_id("p_1", "LOW", 1000) == alert_id("p_1", "LOW", 1000)
    assert alert_id("p_1", "LOW", 1000) != alert_id("p_1", "URGENT_LOW", 1000)
    assert alert_id("p_1", "LOW", 1000) != alert_id("p_1", "LOW", 2000)
