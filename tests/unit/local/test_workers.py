"""The local workers' process plumbing: several loops in one process (the Firehose worker's
delivery streams) stop together, and the first failure is the process's."""

from __future__ import annotations

import threading

import pytest

from glucosestream.local import workers
from glucosestream.local.workers import run_together


def test_loops_run_until_stop_and_a_failure_stops_the_others_and_is_raised() -> None:
    stopped_by_failure: list[str] = []

    def healthy(stop: threading.Event) -> None:
        stop.wait(10)
        stopped_by_failure.append("healthy saw stop")

    def failing(stop: threading.Event) -> None:
        raise OSError("disk full")

    stop = threading.Event()
    with pytest.raises(OSError, match="disk full"):
        run_together([healthy, failing], stop)
    assert stop.is_set()
    assert stopped_by_failure == ["healthy saw stop"]


def test_a_clean_stop_returns() -> None:
    stop = threading.Event()
    ran: list[int] = []

    def loop(stop: threading.Event) -> None:
        ran.append(1)
        stop.wait(10)

    timer = threading.Timer(0.05, stop.set)
    timer.start()
    run_together([loop, loop], stop)
    assert ran == [1, 1]


def test_the_pipeline_line_counts_the_period_marts_when_they_were_built() -> None:
    from glucosestream.local.workers import pipeline_line

    state = {
        "curate": {"curated_rows": 10368, "curated_partitions": ["2026-12-06"]},
        "quality": {"passed": True},
        "marts": {"daily_rows": 126, "period_end": "2026-12-06"},
    }
    quiet = pipeline_line("SUCCEEDED", state)
    assert quiet == (
        "pipeline: SUCCEEDED; curated 10368 rows in 1 partitions; data quality passed; "
        "marts: 126 daily rows, period ending 2026-12-06"
    )
    state["period"] = {"period_rows": 50, "episode_rows": 812, "iglu_rows": 4350}
    assert pipeline_line("SUCCEEDED", state) == (
        quiet + " (50 patients, 812 episodes, 4350 iglu metric values)"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--transform-processes", "33"], "--transform-processes must be 0-32"),
        (["--transform-processes", "-1"], "--transform-processes must be 0-32"),
        (["--transform-processes", "two"], "invalid int value: 'two'"),
        (["--buffer-seconds", "0"], "--buffer-seconds and --every must be positive"),
    ],
)
def test_bad_worker_arguments_exit_2_naming_the_argument(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        workers.main(["firehose", *arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
