"""A demo run's totals survive worker restarts and ignore an earlier run's processes."""

from __future__ import annotations

from glucosestream.cli.run_totals import RunTotals

START = "2026-12-05T18:00:00+00:00"


def report(pid: int, succeeded: int, started_at: str = "2026-12-05T18:00:05+00:00") -> dict:
    return {
        "worker": "alerts",
        "pid": pid,
        "started_at": started_at,
        "records_succeeded": succeeded,
    }


def test_each_process_counts_once_with_its_newest_report() -> None:
    totals = RunTotals(START)
    totals.observe("alerts", report(101, 500))
    totals.observe("alerts", report(101, 1200))  # the same process, later
    totals.observe("alerts", report(202, 300, "2026-12-05T18:03:00+00:00"))  # restarted
    totals.observe("alerts", report(202, 800, "2026-12-05T18:03:00+00:00"))
    assert totals.total("alerts", "records_succeeded") == 1200 + 800
    assert totals.processes("alerts") == 2
    assert totals.total("firehose", "rows_landed") == 0


def test_a_process_of_an_earlier_run_and_a_torn_report_are_ignored() -> None:
    totals = RunTotals(START)
    totals.observe("alerts", report(55, 9_999, "2026-12-05T17:00:00+00:00"))
    totals.observe("alerts", {})  # the file was being replaced
    totals.observe("alerts", report(101, 40))
    assert totals.total("alerts", "records_succeeded") == 40
