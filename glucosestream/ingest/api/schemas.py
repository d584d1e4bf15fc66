"""Response models of the ingest API, for the OpenAPI document the resolver generates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
