"""`glucosestream metrics --profile iglu`: R iglu 4.3.0's every output, from the command line."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from glucosestream.cli.main import main
from glucosestream.domain.metrics.iglu_profile import DATE_COLUMNS, IGLU_COLUMNS, IGLU_FUNCTIONS
from glucosestream.reports.metrics import METRIC_COLUMNS
from tests.unit.domain.metrics.iglu_reference import FIXTURES, GRID_TOLERANCE, expected


def _run(tmp_path: Path, source: Path, *extra: str) -> list[dict[str, str]]:
    target = tmp_path / "metrics.csv"
    assert main(["metrics", "--input", str(source), "--output", str(target), *extra]) == 0
    with target.open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_iglu_profile_of_iglus_example_data_equals_r(tmp_path: Path) -> None:
    # iglu's own CSV as it ships (an unnamed row-number column, naive local times).
    rows = _run(tmp_path, FIXTURES / "example_data_5_subject.csv", "--profile", "iglu")
    assert list(rows[0]) == ["id", *IGLU_COLUMNS]
    assert [row["id"] for row in rows] == [f"Subject {n}" for n in range(1, 6)]
    for row in rows:
        for function in IGLU_FUNCTIONS:
            r_values = expected(function.name, "example_data_5_subject.csv")[row["id"]]
            for output, column in zip(function.outputs, function.columns, strict=True):
                want, cell = r_values[output], row[column]
                if column in DATE_COLUMNS:
                    assert isinstance(want, str)
                    assert cell == want[:19]
                elif want is None:
                    assert cell == ""
                else:
                    # The CSV holds repr(float): every digit; the grid tolerance covers all.
                    assert float(cell) == pytest.approx(want, rel=GRID_TOLERANCE), column


def test_the_default_profile_keeps_its_32_columns(tmp_path: Path) -> None:
    rows = _run(tmp_path, FIXTURES / "example_data_5_subject.csv")
    assert tuple(rows[0]) == METRIC_COLUMNS
    assert len(METRIC_COLUMNS) == 32
    iglu = _run(tmp_path, FIXTURES / "example_data_5_subject.csv", "--profile", "iglu")
    # The same readings give the same values under both names.
    for default, full in zip(rows, iglu, strict=True):
        assert float(default["mean"]) == pytest.approx(float(full["mean_glu.mean"]), rel=1e-12)
        assert float(default["mage"]) == pytest.approx(float(full["mage.MAGE"]), rel=1e-9)


def test_an_unknown_profile_exits_2_with_the_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "m.csv"
    source = FIXTURES / "example_data_5_subject.csv"
    with pytest.raises(SystemExit) as stopped:
        main(["metrics", "--input", str(source), "--output", str(target), "--profile", "r"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'r'" in err
    assert "'default', 'iglu'" in err
    assert not target.exists()


def test_a_patient_with_too_little_data_gets_empty_values_only_there(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    lines = ["id,time,gl", "short,2026-01-05T08:00:00Z,100", "short,2026-01-05T08:05:00Z,120"]
    lines += [f"long,2026-01-05T{h:02d}:{m:02d}:00Z,{100 + (h * 7 + m) % 90}"
              for h in range(24) for m in range(0, 60, 5)]  # fmt: skip
    source.write_text("\n".join(lines) + "\n")
    rows = {row["id"]: row for row in _run(tmp_path, source, "--profile", "iglu")}
    assert rows["short"]["mean_glu.mean"] == "110.0"
    assert rows["short"]["modd.MODD"] == ""
    assert rows["long"]["sd_glu.SD"] != ""
    assert not math.isnan(float(rows["long"]["mag.MAG"]))
    assert not math.isnan(float(rows["long"]["sd_measures.SDw"]))
