"""A pipeline step failing after its retries: `elt run` says which state failed, the original
error (which names the file or partition) and where the execution history is."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.cli.main import main
from glucosestream.settings import Settings
from tests.component.elt.rawdata import day_of_readings, write_raw

pytestmark = pytest.mark.usefixtures("pipeline_handler_env")


def raw_partition(settings: Settings, dt: str, hour: str) -> Path:
    root = settings.lake_dir / settings.names.raw_readings_prefix
    directory = root / f"dt={dt}" / f"hour={hour}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def elt_run(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["elt", "run"])
    return code, capsys.readouterr().err.rstrip().splitlines()


@pytest.mark.parametrize(
    ("damage", "state", "reason"),
    [
        ("truncated", "UnloadCurated", "No magic bytes found at end of file '{path}'"),
        ("empty", "UnloadCurated", "File '{path}' too small to be a Parquet file"),
        (
            "bad date",
            "Plan",
            "ValueError: raw partition raw/readings/dt=2026-13-45/ is not a date (YYYY-MM-DD): "
            "month must be in 1..12",
        ),
    ],
)
def test_a_failed_step_is_named_with_its_cause_and_the_history_file(
    settings: Settings, capsys: pytest.CaptureFixture[str], damage: str, state: str, reason: str
) -> None:
    # Given a day of readings in raw and beside them a damaged file or partition, as a crashed
    # copy or a hand-made directory leaves them
    first_hour, _ = write_raw(settings, "firehose-1", day_of_readings("p1", "2026-01-05"))
    written = first_hour.read_bytes()
    if damage == "truncated":
        path = raw_partition(settings, "2026-01-05", "03") / "part-trunc.parquet"
        path.write_bytes(written[: len(written) // 2])
    elif damage == "empty":
        path = raw_partition(settings, "2026-01-05", "03") / "part-empty.parquet"
        path.write_bytes(b"")
    else:
        path = raw_partition(settings, "2026-13-45", "03") / "part-0.parquet"
        path.write_bytes(written)

    # When the pipeline runs
    code, error_lines = elt_run(capsys)

    # Then it exits 1 saying which state failed and why, and where the execution history is
    assert code == 1
    assert len(error_lines) == 2, error_lines
    first, second = error_lines
    assert first.startswith("glucosestream: error: pipeline stopped, marts not rebuilt — ")
    assert f"state {state} failed: " in first
    assert reason.format(path=path) in first
    assert "PipelineStepFailed" not in first
    (history,) = sorted((settings.state_dir / "logs").glob("pipeline-*.json"))
    assert second == f"  execution history: {history}"
