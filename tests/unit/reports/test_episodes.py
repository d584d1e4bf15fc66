"""`glucosestream episodes`: one row per episode, consistent with `glucosestream metrics`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from glucosestream.cli.main import main


def csv_text(values: list[int], start: str = "2026-01-05T08:00:00Z") -> str:
    from datetime import datetime, timedelta

    t0 = datetime.fromisoformat(start)
    rows = [f"p,{(t0 + timedelta(minutes=5 * i)).isoformat()},{v}" for i, v in enumerate(values)]
    return "id,time,gl\n" + "\n".join(rows) + "\n"


def run(tmp_path: Path, text: str, command: str = "episodes") -> list[dict[str, str]]:
    source, target = tmp_path / "in.csv", tmp_path / f"{command}.csv"
    source.write_text(text)
    assert main([command, "--input", str(source), "--output", str(target)]) == 0
    with target.open() as f:
        return list(csv.DictReader(f))


def test_a_thirty_minute_low_is_one_level_1_episode(tmp_path: Path) -> None:
    # 08:00-08:25 at 100; 08:30-08:55 at 60 (six 5-minute grid points = 30 min); then 100.
    rows = run(tmp_path, csv_text([100] * 6 + [60] * 6 + [100] * 6))
    assert len(rows) == 1
    (episode,) = rows
    assert (episode["type"], episode["level"]) == ("hypo", "lv1")
    assert episode["start_local"] == "2026-01-05T08:30:00"
    assert int(episode["duration_min"]) == 30
    assert float(episode["extreme_mg_dl"]) == pytest.approx(60.0)
    assert episode["exclusive"] == "true"


def test_a_level_2_low_is_also_a_level_1_episode(tmp_path: Path) -> None:
    rows = run(tmp_path, csv_text([100] * 6 + [60, 50, 45, 45, 50, 60] + [100] * 6))
    levels = sorted((r["type"], r["level"], r["exclusive"]) for r in rows)
    # below 54 for 4 points (20 min) -> level 2; the level-1 episode overlaps it.
    assert levels == [("hypo", "lv1", "false"), ("hypo", "lv2", "false")]
    nadir = {r["level"]: float(r["extreme_mg_dl"]) for r in rows}
    assert nadir == {"lv1": pytest.approx(45.0), "lv2": pytest.approx(45.0)}


def test_counts_match_the_metrics_columns(tmp_path: Path) -> None:
    text = csv_text([100] * 6 + [60] * 6 + [100] * 6 + [260] * 6 + [150] * 6)
    episodes = run(tmp_path, text)
    (metrics,) = run(tmp_path, text, "metrics")
    for kind in ("hypo", "hyper"):
        for level in ("lv1", "lv2"):
            count = sum(1 for e in episodes if (e["type"], e["level"]) == (kind, level))
            assert int(metrics[f"{kind}_{level}_episodes"]) == count, (kind, level)


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "e.csv"
    source.write_text("id,time,gl\np,2026-01-05T08:00:00Z,-3\n")
    assert main(["episodes", "--input", str(source), "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not a positive glucose value" in err
    assert not target.exists()
