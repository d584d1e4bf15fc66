"""The entry point: settings it cannot load give one line naming the variable and exit
status 2 (the console script and ``python -m glucosestream.cli`` as processes:
``tests/component/cli/test_main.py``)."""

from __future__ import annotations

import gc

import pytest

from glucosestream.cli.main import console, main


def test_bad_setting_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_KINESIS_PORT", "http")
    assert main(["settings"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "invalid setting GS_KINESIS_PORT" in err


def test_aws_mode_without_a_required_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_MODE", "aws")
    assert main(["settings"]) == 2
    assert capsys.readouterr().err == (
        "glucosestream: error: invalid settings: GS_PSEUDONYM_KEY is required in aws mode\n"
    )


def test_aws_mode_topic_without_its_arn_names_the_variable() -> None:
    from glucosestream.settings import MissingSetting, load_settings

    settings = load_settings(mode="aws", pseudonym_key="k" * 32)
    with pytest.raises(MissingSetting, match=r"^GS_PIPELINE_TOPIC_ARN is not set"):
        settings.topic_arn(settings.names.pipeline_topic)


def test_the_console_script_returns_mains_status_with_the_heap_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.argv", ["glucosestream", "settings", "--bogus"])
    frozen_before = gc.get_freeze_count()
    try:
        with pytest.raises(SystemExit) as exited:  # argparse refuses the flag
            console()
        assert exited.value.code == 2
        assert gc.get_freeze_count() == frozen_before  # a refused command exits before
        monkeypatch.setattr("sys.argv", ["glucosestream", "settings"])
        assert console() == 0
        assert gc.get_freeze_count() > frozen_before
    finally:
        gc.unfreeze()
