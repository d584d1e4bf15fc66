"""The command line's arguments: a bad one gives one line and exit status 2."""

from __future__ import annotations

import pytest

from glucosestream.cli.main import main


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        ([], "the following arguments are required: command"),
        (["launch"], "invalid choice: 'launch'"),
        (["local", "sideways"], "invalid choice: 'sideways'"),
        (["demo", "--patients", "0"], "0 is not positive"),
        (["demo", "--patients", "ten"], "'ten' is not a whole number"),
        (["demo", "--days", "-1"], "-1 is not a positive finite number"),
        (["simulate", "--patients", "2", "--days", "-1", "--out", "x.csv"], "-1 is not a positive"),
        (["simulate", "--patients", "2", "--days", "0", "--out", "x.csv"], "0 is not a positive"),
        (
            ["simulate", "--patients", "2", "--days", "ten", "--out", "x.csv"],
            "'ten' is not a number",
        ),
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
