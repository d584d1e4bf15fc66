from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from glucosestream.settings import LOCAL_PSEUDONYM_KEY, ResourceNames, arn, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GS_"):
            monkeypatch.delenv(name)


def test_defaults_are_a_local_dev_stack() -> None:
    settings = load_settings()
    assert settings.mode == "local"
    assert settings.kinesis_endpoint == "http://127.0.0.1:4567"
    assert settings.moto_endpoint == "http://127.0.0.1:4566"
    assert settings.pseudonym_key_bytes == LOCAL_PSEUDONYM_KEY.encode()


def test_values_come_from_gs_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GS_ENV", "prod-eu")
    monkeypatch.setenv("GS_KINESIS_PORT", "24567")
    monkeypatch.setenv("GS_STREAM_SHARDS", "4")
    settings = load_settings()
    assert settings.names.readings_stream == "gs-prod-eu-readings"
    assert settings.kinesis_endpoint == "http://127.0.0.1:24567"
    assert settings.stream_shards == 4


def test_every_resource_name_follows_the_convention() -> None:
    names = ResourceNames(env="qa").as_dict()
    assert names["readings_stream"] == "gs-qa-readings"
    assert names["patient_state_table"] == "gs-qa-patient-state"
    assert names["alerts_topic"] == "gs-qa-alerts"
    assert names["pipeline_topic"] == "gs-qa-pipeline"
    assert names["state_machine"] == "gs-qa-pipeline"
    assert names["glue_database"] == "gs_qa_lake"
    assert names["athena_workgroup"] == "gs-qa-workgroup"
    for key, value in names.items():
        if key.endswith("_prefix") or key in ("env", "glue_database"):
            continue
        assert value.startswith("gs-qa-"), key


def test_aws_mode_has_no_endpoints_and_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="GS_PSEUDONYM_KEY is required in aws mode"):
        load_settings(mode="aws")
    settings = load_settings(mode="aws", pseudonym_key="x" * 40)
    assert settings.kinesis_endpoint is None
    assert settings.moto_endpoint is None


def test_the_key_is_never_shown() -> None:
    settings = load_settings(pseudonym_key="super-secret-key-0123456789abcdef")
    assert "super-secret" not in repr(settings)
    assert "super-secret" not in settings.model_dump_json()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"env": "Prod"}, "should match pattern"),
        ({"env": "a" * 17}, "should match pattern"),
        ({"kinesis_port": 80}, "greater than or equal to 1024"),
        ({"kinesis_port": 5000, "moto_port": 5000}, "must differ"),
        ({"local_host": "0.0.0.0"}, "loopback"),
        ({"local_host": "localhost.example"}, "loopback IP address"),
        ({"pseudonym_key": "short"}, "at least 32 characters"),
        ({"mode": "cloud"}, "'local' or 'aws'"),
        ({"region": "mars"}, "should match pattern"),
        ({"local_engine_memory": "lots"}, "should match pattern"),
        ({"local_engine_memory": "-1GB"}, "should match pattern"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_settings(**overrides)


def test_a_child_process_environment_gives_the_same_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = load_settings(
        env="qa", state_dir=tmp_path, kinesis_port=14567, pseudonym_key="k" * 32, stream_shards=3
    )
    environment = settings.as_environment()
    assert environment["GS_PSEUDONYM_KEY"] == "k" * 32
    for name in [n for n in os.environ if n.startswith("GS_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert load_settings() == settings


def test_arns_are_built_in_the_local_account_unless_another_is_given() -> None:
    assert arn("kinesis", "eu-west-1", "stream/gs-dev-readings") == (
        "arn:aws:kinesis:eu-west-1:123456789012:stream/gs-dev-readings"
    )
    assert arn("iam", "", "role/gs-dev-alerts") == "arn:aws:iam::123456789012:role/gs-dev-alerts"
    assert arn("states", "local", "stateMachine:x", "000000000000") == (
        "arn:aws:states:local:000000000000:stateMachine:x"
    )
    settings = load_settings(env="dev", region="eu-west-1")
    assert settings.topic_arn(settings.names.alerts_topic) == (
        "arn:aws:sns:eu-west-1:123456789012:gs-dev-alerts"
    )
