"""The one place boto3 clients are built.

Local mode points every client at the local stack on 127.0.0.1 (kinesalite for Kinesis, one moto
server for the rest) with throw-away credentials; aws mode passes nothing, so boto3's own
configuration chain (env, profile, role) decides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp

from glucosestream.settings import Settings

_LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def client_config(max_attempts: int = 3) -> Config:
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=3,
        read_timeout=30,
        max_pool_connections=20,
    )


def epoch_or_text_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, fast for epoch seconds (JSON protocols: Kinesis's
    ``ApproximateArrivalTimestamp`` on every record read): an aware UTC datetime.

    botocore's own parser builds a ``dateutil`` local time zone for every value, which was a
    fifth of the Firehose worker's reading time; text timestamps and values out of the
    platform's range still go to it.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    parsed: datetime = parse_timestamp(value)
    return parsed


def _session() -> boto3.session.Session:
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=epoch_or_text_timestamp
    )
    return boto3.session.Session(botocore_session=core)


def endpoint_for(service: str, settings: Settings) -> str | None:
    if settings.mode != "local":
        return None
    return settings.kinesis_endpoint if service == "kinesis" else settings.moto_endpoint


def endpoint_client(service: str, endpoint_url: str, region: str, *, max_attempts: int = 3) -> Any:
    """A boto3 client for ``service`` at a local endpoint (moto server, the local Athena API),
    with the local stack's throw-away credentials."""
    return _session().client(  # type: ignore[call-overload]
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=client_config(max_attempts),
        **_LOCAL_CREDENTIALS,
    )


def aws_client(service: str, settings: Settings, *, max_attempts: int = 3) -> Any:
    """A boto3 client for ``service`` in the mode the settings name."""
    kwargs: dict[str, Any] = {
        "region_name": settings.region,
        "config": client_config(max_attempts),
    }
    endpoint = endpoint_for(service, settings)
    if endpoint is not None:
        kwargs.update(endpoint_url=endpoint, **_LOCAL_CREDENTIALS)
    return _session().client(service, **kwargs)  # type: ignore[call-overload]
