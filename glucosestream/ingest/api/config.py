"""Settings of the ingest API, read from ``GS_INGEST_*`` environment variables.

Kept apart from :class:`glucosestream.settings.Settings` because only the API and the import read
them. Local mode has working defaults (a development key and secret, printed by
``glucosestream api serve``) so that ``make run`` and the README's curl examples work on a fresh
clone; aws mode has none: without configured keys every request is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from glucosestream.ingest.api.auth import ApiKeys, AuthConfigError, NightscoutSecret, sha256_hex
from glucosestream.settings import Settings

LOCAL_API_KEY = "gs-local-development-key"
"""Local mode only, when no keys are configured: writes source patient ids starting 'demo-'."""
LOCAL_TENANT = "demo"
LOCAL_PATIENT_PREFIX = "demo-"
LOCAL_NIGHTSCOUT_SECRET = "local-nightscout-secret"  # noqa: S105 - local mode only, documented
"""Local mode only, when no secret is configured (>= 12 characters, as Nightscout requires)."""


class IngestSettings(BaseSettings):
    """Each field is read from ``GS_INGEST_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GS_INGEST_", frozen=True, extra="ignore")

    api_keys: SecretStr | None = Field(
        default=None, description="The API key document as JSON (hashes only; see ingest.auth)."
    )
    api_keys_file: Path | None = Field(default=None, description="The API key document's file.")
    nightscout_secret: SecretStr | None = Field(
        default=None, description="Nightscout API_SECRET (>= 12 characters)."
    )
    nightscout_patient: str = Field(
        default="demo-nightscout",
        min_length=1,
        description="Source patient id the Nightscout secret writes (one site = one person).",
    )
    nightscout_tenant: str = Field(default=LOCAL_TENANT, min_length=1)
    nightscout_tokens: str | None = Field(
        default=None,
        description='Access tokens by name with their roles, JSON: {"follower": ["readable"]}. '
        "Each token's value is derived from the secret: `glucosestream api nightscout-token "
        "NAME` prints it.",
    )
    port: int = Field(default=4570, ge=1024, le=65535, description="Local API server port.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=6 * 1024 * 1024)
    max_items: int = Field(default=2016, ge=1, le=100_000, description="Readings per request.")
    rate_per_s: float = Field(default=20.0, gt=0, description="Requests per second per caller.")
    burst: int = Field(default=40, ge=1)
    publish_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Give up on Kinesis after this long: answer 503."
    )
    recent_per_patient: int = Field(
        default=10_000,
        ge=1,
        le=10_000,
        description="Most entries one GET answers (`count`); 10,000 (what Nightscout's report "
        "page asks) is the most a Lambda's 6 MB answer holds with room to spare.",
    )
    recent_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description="Days the Nightscout read path keeps entries and device status "
        "(a DynamoDB TTL from each document's date); older data is the lake's.",
    )

    def api_key_registry(self, settings: Settings) -> ApiKeys:
        """The configured keys; the development key in local mode when none are configured."""
        if self.api_keys is not None and self.api_keys_file is not None:
            raise AuthConfigError("set GS_INGEST_API_KEYS or GS_INGEST_API_KEYS_FILE, not both")
        if self.api_keys is not None:
            return ApiKeys.from_json(self.api_keys.get_secret_value())
        if self.api_keys_file is not None:
            try:
                text = self.api_keys_file.read_text(encoding="utf-8")
            except OSError as error:
                raise AuthConfigError(
                    f"cannot read {self.api_keys_file}: {error.strerror}"
                ) from None
            return ApiKeys.from_json(text)
        if settings.mode == "local":
            return ApiKeys.from_document(
                {
                    "keys": [
                        {
                            "id": "local-development",
                            "tenant": LOCAL_TENANT,
                            "sha256": sha256_hex(LOCAL_API_KEY),
                            "patient_prefix": LOCAL_PATIENT_PREFIX,
                        }
                    ]
                }
            )
        return ApiKeys.empty()

    def nightscout(self, settings: Settings) -> NightscoutSecret | None:
        """The Nightscout secret (checked: >= 12 characters); None disables the endpoints."""
        if self.nightscout_secret is not None:
            secret = self.nightscout_secret.get_secret_value()
        elif settings.mode == "local":
            secret = LOCAL_NIGHTSCOUT_SECRET
        else:
            return None
        return NightscoutSecret.configure(secret, self.nightscout_patient, self.nightscout_tenant)

    def nightscout_token_roles(self) -> dict[str, Any]:
        """Token name → roles (validated when the service configures its Nightscout auth)."""
        return _token_roles(self.nightscout_tokens)


def _token_roles(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise AuthConfigError(f"GS_INGEST_NIGHTSCOUT_TOKENS is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise AuthConfigError('GS_INGEST_NIGHTSCOUT_TOKENS must be {"name": ["role", ...]}')
    return document


def load_ingest_settings(**overrides: object) -> IngestSettings:
    return IngestSettings(**overrides)  # type: ignore[arg-type]
