"""Totals of one demo run across worker restarts.

Each worker process reports its own counters since it started (``pid``, ``started_at`` and the
counts, rewritten every few seconds and once more on a clean stop); a restarted worker is a new
process whose counters start at zero. Summing each process's last report over the processes
started in this run gives the run's totals, however often a worker was restarted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunTotals:
    started_at: str
    """ISO UTC time the run began: reports of processes started before it are not counted."""
    last_reports: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    """(worker, pid) → that process's newest report."""

    def observe(self, worker: str, report: Mapping[str, Any]) -> None:
        pid = report.get("pid")
        if not isinstance(pid, int) or str(report.get("started_at", "")) < self.started_at:
            return
        self.last_reports[(worker, pid)] = dict(report)

    def total(self, worker: str, counter: str) -> int:
        return sum(
            int(report.get(counter, 0))
            for (name, _), report in self.last_reports.items()
            if name == worker
        )

    def processes(self, worker: str) -> int:
        return sum(name == worker for name, _ in self.last_reports)
