"""`glucosestream alerts settings|ack`: bad arguments refused in one line before any stack call."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.cli.main import main


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["settings", "--patient", "demo-1", "--low", "101"], "--low: 101 is out of range"),
        (["settings", "--patient", "demo-1", "--high", "119"], "(allowed range 120-400 mg/dL)"),
        (["settings", "--patient", "demo-1", "--low", "8o"], "invalid int value: '8o'"),
        (["settings", "--patient", "demo-1", "--high-alerts", "yes"], "invalid choice: 'yes'"),
        (["settings", "--patient", "demo-1", "--quiet-hours", "7-9"], '"7" is not a 24-hour'),
        (["settings", "--low", "80"], "one of the arguments --patient --pseudonym is required"),
        (["settings", "--pseudonym", "alice"], "--pseudonym must look like p_"),
        (["ack", "123", "--patient", "demo-1"], "32 lowercase hex digits"),
        (["settings", "--patient", "demo-1", "--low", "80"], "the local stack is not running"),
        (["settings", "--patient", ""], "argument --patient: the source patient id is empty"),
        (["ack", "a" * 32, "--patient", " "], "argument --patient: the source patient id is empty"),
    ],
)
def test_refused_in_one_line_with_exit_2(
    argv: list[str],
    reason: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GS_STATE_DIR", str(tmp_path / "state"))
    try:
        status = main(["alerts", *argv])
    except SystemExit as parser_exit:  # argparse's refusals exit from inside parse_args
        status = int(parser_exit.code or 0)
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert reason in err
