"""Identities: deterministic event ids and keyed pseudonyms.

Deterministic ids make every sink idempotent: the same reading always has the same id, whichever
producer, retry or import sent it.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_PREFIX = "p_"


def reading_event_id(patient_id: str, device_id: str, measured_at_ms: int) -> str:
    """First 32 hex digits (128 bits) of SHA-256 over ``patient_id|device_id|measured_at_ms``."""
    key = f"{patient_id}|{device_id}|{measured_at_ms}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def alert_id(patient_id: str, kind: str, episode_start_ms: int, repeat: int = 0) -> str:
    """First 32 hex digits of SHA-256 over ``patient_id|kind|episode_start_ms``, and ``|repeat``
    appended for the n-th repeat of an alert (n >= 1).

    One alert of a kind per episode (and one per repeat), so this id is its idempotency key.
    """
    suffix = f"|{repeat}" if repeat else ""
    key = f"{patient_id}|{kind}|{episode_start_ms}{suffix}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def pseudonymise(source_patient_id: str, key: bytes) -> str:
    """Keyed pseudonym of a source patient id: ``p_`` + first 32 hex digits of HMAC-SHA256.

    Stable for one key, unlinkable without it. The key comes from settings and is never logged.
    """
    if not source_patient_id:
        raise ValueError("source patient id is empty")
    if len(key) < 16:
        raise ValueError("pseudonymisation key must be at least 16 bytes")
    digest = hmac.new(key, source_patient_id.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]
