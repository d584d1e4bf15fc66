"""``metrics``, ``episodes`` and ``alerts replay`` over an id,time,gl CSV: what they refuse
before any work, and ``--units``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from glucosestream.cli.main import main
from glucosestream.domain.reading import mmol_l_to_mg_dl

COMMANDS = ["metrics", "episodes", "alerts replay"]
MMOL_VALUES = [5.5, 5.8, 6.1, 6.4, 6.7, 6.4, 6.1, 5.8, 3.6, 3.4, 3.5, 3.7, 4.2, 5.0]
"""A morning in mmol/L, 5-minute readings, with a 20-minute low under 3.9 (70 mg/dL)."""
LOW_FOUND = {
    "metrics": b",1,0,0,0\n",  # hypo_lv1_episodes 1, the other episode counts 0
    "episodes": b"pt1,hypo,lv1,",
    "alerts replay": b'"kind":"LOW"',
}


def id_time_gl(values: list[float] | list[int]) -> str:
    start = datetime(2026, 1, 5, 7, 0)
    rows = [
        f"pt1,{start + timedelta(minutes=5 * n):%Y-%m-%dT%H:%M:%S},{value}"
        for n, value in enumerate(values)
    ]
    return "\n".join(["id,time,gl", *rows]) + "\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_mmol_file_read_as_mg_dl_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    # Given the tester's kind of file: gl in mmol/L, no --units
    source, target = tmp_path / "mmol.csv", tmp_path / "out"
    source.write_text(id_time_gl(MMOL_VALUES))
    # When a report is asked of it, then it is refused before any work, saying how to proceed
    assert main([*command.split(), "--input", str(source), "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"glucosestream: error: {source}: every gl value is at most 6.7: the file looks like "
        "mmol/L, not mg/dL; pass --units mmol/L to convert it\n"
    )
    assert not target.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_units_mmol_gives_the_report_of_the_file_converted_to_mg_dl(
    tmp_path: Path, command: str
) -> None:
    # Given one morning in mmol/L and the same morning converted as the importers convert it
    mmol, mg_dl = tmp_path / "mmol.csv", tmp_path / "mg_dl.csv"
    mmol.write_text(id_time_gl(MMOL_VALUES))
    mg_dl.write_text(id_time_gl([mmol_l_to_mg_dl(value) for value in MMOL_VALUES]))
    # When the report is made of each, the first with --units mmol/L
    argv = command.split()
    assert (
        main([*argv, "--input", str(mmol), "--output", str(tmp_path / "a"), "--units", "mmol/L"])
        == 0
    )
    assert main([*argv, "--input", str(mg_dl), "--output", str(tmp_path / "b")]) == 0
    # Then the two are the same, and the low is in them
    converted, given = (tmp_path / "a").read_bytes(), (tmp_path / "b").read_bytes()
    assert converted == given
    assert LOW_FOUND[command] in converted


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("output_name", ["same path", "relative path", "symlink", "hard link"])
def test_an_output_that_is_the_input_is_refused_before_reading(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    output_name: str,
) -> None:
    # Given a readings file, and --output naming that same file one way or another
    source = tmp_path / "readings.csv"
    readings = id_time_gl([100, 104, 110])
    source.write_text(readings)
    monkeypatch.chdir(tmp_path)
    output = {
        "same path": source,
        "relative path": Path("readings.csv"),
        "symlink": tmp_path / "link.csv",
        "hard link": tmp_path / "hard.csv",
    }[output_name]
    if output_name == "symlink":
        output.symlink_to(source)
    if output_name == "hard link":
        output.hardlink_to(source)
    # When the report is asked for, then it is one line, exit 2, and the readings are intact
    assert main([*command.split(), "--input", str(source), "--output", str(output)]) == 2
    assert capsys.readouterr().err == (
        f"glucosestream: error: --output {output} is the --input file: writing it would "
        "destroy the readings; name another file\n"
    )
    assert source.read_text() == readings
