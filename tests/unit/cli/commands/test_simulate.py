"""`glucosestream simulate`: impossible requests refused in one line, the file it names
written."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from glucosestream.cli.main import main


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--out", "{tmp}/x.txt"], "x.txt: the output must end in .csv or .avro"),
        (["--out", "{tmp}/no/x.csv"], "no is not a directory"),
        (["--out", "{tmp}/x.csv", "--speed", "60"], "--speed paces publishing"),
        (["--out", "{tmp}/x.csv", "--aggregate"], "--aggregate applies to --publish only"),
        (["--publish"], "the local stack is not running"),
        (["--out", "{tmp}/x.csv", "--truth", "{tmp}/x.txt"], "must end in .csv or .parquet"),
        (["--out", "{tmp}/x.csv", "--truth", "{tmp}/x.csv"], "must be different files"),
        # Out-of-range periods (they ended in tracebacks or an internal message):
        (
            ["--out", "{tmp}/x.csv", "--start", "9999-12-30"],
            "error: --days 1 from --start 9999-12-30T00:00:00Z ends after 9999-12-01T00:00:00Z: "
            "the simulated period must end by then; --start must be earlier\n",
        ),
        (
            ["--out", "{tmp}/x.csv", "--days", "1e308"],
            "error: --days 1e+308 from --start 2026-01-05T00:00:00Z ends after "
            "9999-12-01T00:00:00Z: the simulated period must end by then; from that start "
            "--days is at most 2912408\n",
        ),
        (
            ["--out", "{tmp}/x.csv", "--start", "9999-11-30", "--days", "1.5"],
            "from that start --days is at most 1\n",
        ),
        (
            ["--out", "{tmp}/x.csv", "--start", "1960-01-01"],
            "error: --start 1960-01-01T00:00:00Z is before 1970-01-01T00:00:00Z: simulated "
            "readings are timed from the Unix epoch\n",
        ),
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


def test_simulate_writes_the_ground_truth_of_every_reading_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readings, truth = tmp_path / "readings.csv", tmp_path / "truth.parquet"
    argv = ["simulate", "--patients", "3", "--days", "1", "--seed", "4"]
    assert main([*argv, "--out", str(readings), "--truth", str(truth)]) == 0
    assert f"to {truth}" in capsys.readouterr().out
    truths = pq.read_table(truth).to_pylist()
    with readings.open() as handle:
        written = {row["event_id"] for row in csv.DictReader(handle)}
    assert {row["event_id"] for row in truths} == written
    assert {row["artefact"] for row in truths} <= {
        "none",
        "compression_low",
        "warmup",
        "sensor_error",
    }
