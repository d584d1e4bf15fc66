"""The command line: one-line reasons and exit status 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glucosestream.cli.main import main


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GS_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        ([], "the following arguments are required: command"),
        (["launch"], "invalid choice: 'launch'"),
        (["local", "sideways"], "invalid choice: 'sideways'"),
        (["demo", "--patients", "0"], "0 is not positive"),
        (["demo", "--patients", "ten"], "'ten' is not a whole number"),
        (["demo", "--days", "-1"], "-1 is not a number >= 0"),
        (["demo", "--days", "inf"], "inf is not a positive finite number"),
        (["demo", "--duration", "nan"], "nan is not a number >= 0"),
        (["simulate", "--patients", "2", "--days", "1"], "one of the arguments --publish --out"),
        (
            ["simulate", "--patients", "2", "--days", "1", "--out", "x.csv", "--publish"],
            "not allowed with argument --out",
        ),
        (
            ["simulate", "--patients", "2", "--days", "1", "--start", "soon", "--out", "x.csv"],
            "'soon' is not an ISO 8601 date or time",
        ),
        (
            ["simulate", "--patients", "2", "--days", "1", "--seed", "-4", "--out", "x.csv"],
            "-4 is negative",
        ),
        (
            ["simulate", "--patients", "2", "--days", "1", "--speed", "0", "--publish"],
            "is not a positive finite number",
        ),
        (["simulate", "--patients", "2", "--out", "x.csv"], "required: --days"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("glucosestream")
    assert reason in err


def test_bad_setting_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_KINESIS_PORT", "http")
    assert main(["settings"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "invalid setting GS_KINESIS_PORT" in err


def test_settings_prints_every_name_and_hides_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_ENV", "qa")
    monkeypatch.setenv("GS_PSEUDONYM_KEY", "a-very-secret-key-of-32-characters!")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["resource_names"]["readings_stream"] == "gs-qa-readings"
    assert "a-very-secret" not in out


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--out", "{tmp}/x.txt"], "x.txt: the output must end in .csv or .avro"),
        (["--out", "{tmp}/no/x.csv"], "no is not a directory"),
        (["--out", "{tmp}/x.csv", "--speed", "60"], "--speed paces publishing"),
        (["--out", "{tmp}/x.csv", "--aggregate"], "--aggregate applies to --publish only"),
        (["--publish"], "the local stack is not running"),
    ],
)
def test_simulate_refuses_impossible_requests_in_one_line(
    argv: list[str],
    reason: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GS_STATE_DIR", str(tmp_path / "state"))
    base = ["simulate", "--patients", "2", "--days", "1"]
    assert main(base + [a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert reason in err
    assert not list(tmp_path.glob("x.*"))


def test_simulate_writes_the_file_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cohort.csv"
    argv = [
        "simulate",
        "--patients",
        "2",
        "--days",
        "0.5",
        "--seed",
        "3",
        "--start",
        "2026-03-28T12:00",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    lines = out.read_text().splitlines()
    assert capsys.readouterr().out == f"wrote {len(lines) - 1} readings of 2 patients to {out}\n"
    assert lines[1].split(",")[1].startswith("2026-03-28T12:")


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
