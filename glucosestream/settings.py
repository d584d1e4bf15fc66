"""One settings object, read from ``GS_*`` environment variables.

Every AWS resource name is derived here, once, as ``gs-${env}-<component>``; Terraform, the Lambda
handlers and the local stack all take their names from :class:`ResourceNames`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_ACCOUNT_ID = "123456789012"
"""moto's default account: local ARNs use it."""
LOCAL_PSEUDONYM_KEY = "glucosestream-local-development-key-not-secret"
"""Used only in local mode when no key is set, so that `make run` works on a fresh clone."""


def arn(service: str, region: str, resource: str, account: str = LOCAL_ACCOUNT_ID) -> str:
    """``arn:aws:<service>:<region>:<account>:<resource>``, the ARN AWS gives a resource; the
    account is the local one unless given (``region`` is empty for global services: IAM)."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"


@dataclass(frozen=True)
class ResourceNames:
    """The AWS resource names of one deployment environment (contract: DESIGN.md §2, §5)."""

    env: str

    @property
    def prefix(self) -> str:
        return f"gs-{self.env}"

    @property
    def readings_stream(self) -> str:
        return f"{self.prefix}-readings"

    @property
    def treatments_stream(self) -> str:
        """Insulin and carbohydrate treatments (schemas/glucose_treatment.v1.avsc) for the lake."""
        return f"{self.prefix}-treatments"

    @property
    def erasures_stream(self) -> str:
        """Erasures of readings (schemas/glucose_reading_erasure.v1.avsc) for the lake."""
        return f"{self.prefix}-erasures"

    @property
    def lake_bucket(self) -> str:
        return f"{self.prefix}-lake"

    @property
    def athena_results_bucket(self) -> str:
        return f"{self.prefix}-athena-results"

    raw_readings_prefix: str = "raw/readings/"
    errors_prefix: str = "errors/readings/"
    raw_treatments_prefix: str = "raw/treatments/"
    treatment_errors_prefix: str = "errors/treatments/"
    raw_erasures_prefix: str = "raw/erasures/"
    erasure_errors_prefix: str = "errors/erasures/"
    curated_prefix: str = "curated/"
    marts_prefix: str = "marts/"

    @property
    def patient_state_table(self) -> str:
        return f"{self.prefix}-patient-state"

    @property
    def nightscout_table(self) -> str:
        """The Nightscout read path: recent entries, treatments, device status per patient."""
        return f"{self.prefix}-nightscout"

    @property
    def privacy_ledger_table(self) -> str:
        """The dashboard's per-user privacy budget ledger (ε spent per user per month)."""
        return f"{self.prefix}-privacy-ledger"

    @property
    def alerts_topic(self) -> str:
        return f"{self.prefix}-alerts"

    @property
    def pipeline_topic(self) -> str:
        return f"{self.prefix}-pipeline"

    @property
    def alerts_dlq(self) -> str:
        """On-failure destination of the alerts consumer's event-source mapping."""
        return f"{self.prefix}-alerts-dlq"

    @property
    def alerts_feed_queue(self) -> str:
        """A queue subscribed to the alerts topic (the operators' feed: the demo's console)."""
        return f"{self.prefix}-alerts-feed"

    @property
    def dashboard_alerts_queue(self) -> str:
        """The dashboard's own queue on the alerts topic (an SQS message goes to one reader)."""
        return f"{self.prefix}-dashboard-alerts"

    @property
    def pipeline_feed_queue(self) -> str:
        return f"{self.prefix}-pipeline-feed"

    @property
    def alerts_function(self) -> str:
        """The alerts consumer Lambda (consumers/alerts/handler.py)."""
        return f"{self.prefix}-alerts-consumer"

    @property
    def alerts_kcl_application(self) -> str:
        """The alerts consumer as a KCL application (consumers/alerts_kcl): its ECS service, and
        the KCL's lease table, which the KCL creates with two more beside it
        (:attr:`alerts_kcl_coordinator_table`, :attr:`alerts_kcl_worker_metrics_table`)."""
        return f"{self.prefix}-alerts-kcl"

    @property
    def alerts_kcl_coordinator_table(self) -> str:
        return f"{self.alerts_kcl_application}-CoordinatorState"

    @property
    def alerts_kcl_worker_metrics_table(self) -> str:
        return f"{self.alerts_kcl_application}-WorkerMetricStats"

    @property
    def firehose_transform_function(self) -> str:
        """Firehose's transform Lambda (consumers/firehose_transform/handler.py)."""
        return f"{self.prefix}-firehose-transform"

    @property
    def ingest_function(self) -> str:
        """The ingest API Lambda (consumers/ingest_api/handler.py)."""
        return f"{self.prefix}-ingest-api"

    @property
    def firehose_delivery_stream(self) -> str:
        return f"{self.prefix}-raw-delivery"

    @property
    def treatments_delivery_stream(self) -> str:
        """Firehose from the treatments stream into raw/treatments/ (same transform Lambda)."""
        return f"{self.prefix}-treatments-delivery"

    @property
    def erasures_delivery_stream(self) -> str:
        """Firehose from the erasures stream into raw/erasures/ (same transform Lambda)."""
        return f"{self.prefix}-erasures-delivery"

    @property
    def pipeline_function(self) -> str:
        """The Lambda that runs the pipeline's steps."""
        return f"{self.prefix}-pipeline"

    @property
    def grid_metrics_function(self) -> str:
        """The Lambda computing the grid metrics of a batch of patient chunks (the pipeline's
        Distributed Map; consumers/grid_metrics/handler.py)."""
        return f"{self.prefix}-grid-metrics"

    @property
    def state_machine(self) -> str:
        return f"{self.prefix}-pipeline"

    @property
    def glue_database(self) -> str:
        # Glue and Athena database names allow no hyphens.
        return f"gs_{self.env.replace('-', '_')}_lake"

    @property
    def athena_workgroup(self) -> str:
        return f"{self.prefix}-workgroup"

    def as_dict(self) -> dict[str, str]:
        """Every name, for `glucosestream settings` and the Terraform contract tests."""
        names = {
            name: getattr(self, name)
            for name in dir(type(self))
            if isinstance(getattr(type(self), name), property) and name != "prefix"
        }
        return {**asdict(self), **names}


class MissingSetting(ValueError):
    """A setting this command needs in aws mode is not set; the message names the variable."""


class Settings(BaseSettings):
    """GlucoseStream settings. Each field is read from ``GS_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="GS_", frozen=True, extra="ignore")

    env: str = Field(
        default="dev",
        pattern=r"^[a-z][a-z0-9-]{0,15}$",
        description="Deployment environment; part of every resource name.",
    )
    mode: Literal["local", "aws"] = Field(
        default="local", description="local: the one-machine stack; aws: real AWS endpoints."
    )
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    state_dir: Path = Field(
        default=Path(".gs"), description="Local stack state: data, checkpoints, lake, logs."
    )
    local_host: str = Field(default="127.0.0.1", description="Local servers bind here only.")
    kinesis_port: int = Field(default=4567, ge=1024, le=65535)
    moto_port: int = Field(default=4566, ge=1024, le=65535)
    stream_shards: int = Field(default=2, ge=1, le=64)
    local_engine_memory: str = Field(
        default="25%",
        pattern=r"^\d+(\.\d+)?\s*(%|[KMGT]i?B)$",
        description="Memory the local Athena engine (DuckDB) may hold, e.g. 25% of RAM or 4GiB; "
        "beyond it sorts, joins and aggregates spill to a temporary directory.",
    )
    alerts_topic_arn: str | None = Field(
        default=None, description="ARN of the alerts topic (set by Terraform in aws mode)."
    )
    pipeline_topic_arn: str | None = Field(default=None, description="ARN of the pipeline topic.")
    alert_staleness_minutes: int = Field(
        default=15, ge=1, le=15, description="Readings arriving later than this never page."
    )
    privacy_budget_epsilon: float = Field(
        default=3.0,
        gt=0,
        le=10,
        description="Total ε one dashboard user may spend on privacy-mode releases per month.",
    )
    dashboard_alb_arn: str | None = Field(
        default=None,
        pattern=r"^arn:[a-z-]+:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[^/]+/",
        description="ARN of the dashboard's load balancer: the only signer whose identity "
        "token (x-amzn-oidc-data) the dashboard accepts in aws mode. A value ending at the "
        "name (…:loadbalancer/app/<name>/) matches that load balancer whatever its id.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for patient pseudonyms (>= 32 characters). Required in aws mode.",
    )

    @field_validator("local_host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"local_host must be a loopback IP address, got {host!r}") from None
        if not address.is_loopback:
            raise ValueError(f"local_host must be a loopback address, got {host}")
        return host

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.kinesis_port == self.moto_port:
            raise ValueError("kinesis_port and moto_port must differ")
        key = self.pseudonym_key.get_secret_value() if self.pseudonym_key else None
        if key is not None and len(key) < 32:
            raise ValueError("pseudonym_key must be at least 32 characters")
        if self.mode == "aws" and key is None:
            raise ValueError("GS_PSEUDONYM_KEY is required in aws mode")
        return self

    @cached_property
    def names(self) -> ResourceNames:
        return ResourceNames(env=self.env)

    @property
    def pseudonym_key_bytes(self) -> bytes:
        if self.pseudonym_key is None:
            return LOCAL_PSEUDONYM_KEY.encode()
        return self.pseudonym_key.get_secret_value().encode()

    @property
    def kinesis_endpoint(self) -> str | None:
        return f"http://{self.local_host}:{self.kinesis_port}" if self.mode == "local" else None

    @property
    def moto_endpoint(self) -> str | None:
        return f"http://{self.local_host}:{self.moto_port}" if self.mode == "local" else None

    def topic_arn(self, name: str) -> str:
        """The ARN of one of our topics: configured in aws mode, moto's account locally."""
        variable, configured = {
            self.names.alerts_topic: ("GS_ALERTS_TOPIC_ARN", self.alerts_topic_arn),
            self.names.pipeline_topic: ("GS_PIPELINE_TOPIC_ARN", self.pipeline_topic_arn),
        }.get(name, ("GS_*_TOPIC_ARN", None))
        if configured:
            return configured
        if self.mode == "aws":
            raise MissingSetting(
                f"{variable} is not set: aws mode needs the ARN of topic {name} "
                "(a Terraform output of envs/dev)"
            )
        return arn("sns", self.region, name)

    @property
    def lake_dir(self) -> Path:
        """The local stand-in for the lake bucket (same key layout)."""
        return self.state_dir / "lake"

    def as_environment(self) -> dict[str, str]:
        """``GS_*`` variables that give a child process these same settings."""
        found = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            found[f"GS_{name.upper()}"] = str(value)
        return found


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI flags) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
