"""The local workers' process plumbing: several loops in one process (the Firehose worker's
delivery streams) stop together, and the first failure is the process's."""

from __future__ import annotations

import threading

import pytest

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
