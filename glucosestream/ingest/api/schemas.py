"""Response models of the ingest API, for the OpenAPI document the resolver generates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RejectedItem(BaseModel):
    index: int = Field(description="Position of the item in the request's array.")
    reason: str


class ReadingsAccepted(BaseModel):
    accepted: int = Field(description="Readings Kinesis accepted.")
    rejected: list[RejectedItem]
    event_ids: list[str] = Field(description="Event id of each accepted reading, in order.")


class Problem(BaseModel):
    """Every refusal: the HTTP status and the reason."""

    status: int
    message: str
    accepted: int | None = None
    rejected: list[RejectedItem] | None = None
    sent_before_failure: int | None = Field(
        default=None, description="503 only: readings that reached the stream before it failed."
    )


class NightscoutStatus(BaseModel):
    status: str
    name: str
    version: str
    serverTime: str  # noqa: N815
    serverTimeEpoch: int  # noqa: N815
    apiEnabled: bool  # noqa: N815
    settings: dict[str, Any]


class AlertSettingsChange(BaseModel):
    """Any subset of the settings (the documented shape; the service validates each value and
    names the allowed range of a refused one)."""

    low_mg_dl: int | None = Field(default=None, ge=60, le=100, description="LOW threshold.")
    high_mg_dl: int | None = Field(default=None, ge=120, le=400, description="HIGH threshold.")
    high_alerts: bool | None = Field(default=None, description="HIGH alerts on or off.")
    quiet_hours: str | None = Field(
        default=None,
        description='"HH:MM-HH:MM" in the patient\'s local time, or "off": LOW, HIGH and '
        "RECOVERED are published silenced then; URGENT_LOW and URGENT_LOW_SOON never are.",
    )


class AlertSettingsValues(BaseModel):
    low_mg_dl: int
    high_mg_dl: int
    high_alerts: bool
    quiet_hours: str = Field(description='"HH:MM-HH:MM", or "off" (as sent to turn them off).')


class AlertSettingsOut(BaseModel):
    patient_id: str = Field(description="The source patient id, as sent.")
    settings: AlertSettingsValues


class AckIn(BaseModel):
    """Only the patient: the acknowledger is the API key's id; other fields are refused."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(description="The source patient id the alert is about.")


class AckOut(BaseModel):
    alert_id: str
    acknowledged_at: int = Field(description="UTC ms of the first acknowledgement.")
    acknowledged_by: str = Field(description="The API key id (or dashboard) that acknowledged.")
    already_acknowledged: bool
