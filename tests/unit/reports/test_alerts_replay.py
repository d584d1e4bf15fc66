"""`glucosestream alerts replay`: CSV in, one JSON alert per line out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glucosestream.cli.main import main

# A 20-minute low (5-minute readings) for one patient and a flat trace for another.
CSV = (
    "id,time,gl\n"
    + "".join(
        f"p1,2026-01-05T08:{5 * i:02d}:00Z,{v}\n"
        for i, v in enumerate([75, 72, 70, 68, 67, 66, 66, 67, 68, 70, 72, 75])
    )
    + "".join(f"p2,2026-01-05T08:{5 * i:02d}:00Z,120\n" for i in range(12))
)


def test_replay_writes_the_alerts_of_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "alerts.jsonl"
    source.write_text(CSV)
    assert main(["alerts", "replay", "--input", str(source), "--output", str(target)]) == 0
    alerts = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(a["patient_id"], a["kind"], a["measured_at"]) for a in alerts] == [
        ("p1", "LOW", "2026-01-05T08:25:00.000Z"),
        ("p1", "RECOVERED", "2026-01-05T08:55:00.000Z"),
    ]
    assert {a["episode_start"] for a in alerts} == {"2026-01-05T08:15:00.000Z"}
    assert alerts[0]["glucose_mg_dl"] == 66
    assert "replayed 24 readings: 2 alerts (1 LOW, 1 RECOVERED)" in capsys.readouterr().out


def test_replay_is_deterministic_and_ignores_input_order(tmp_path: Path) -> None:
    lines = CSV.splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    outputs = []
    for index, text in enumerate([CSV, shuffled, CSV]):
        source, target = tmp_path / f"in{index}.csv", tmp_path / f"out{index}.jsonl"
        source.write_text(text)
        assert main(["alerts", "replay", "--input", str(source), "--output", str(target)]) == 0
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


@pytest.mark.parametrize(
    ("text", "extra", "reason"),
    [
        ("id,time,gl\np1,2026-01-05T08:00:00Z,ok\n", [], "gl 'ok' is not a number"),
        (CSV, ["--tz", "Nowhere/City"], "unknown time zone"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, extra: list[str], reason: str
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "alerts.jsonl"
    source.write_text(text)
    argv = ["alerts", "replay", "--input", str(source), "--output", str(target), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert reason in err
    assert not target.exists()
