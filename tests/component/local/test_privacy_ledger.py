"""The local privacy ledger: a JSON file that survives restarts and never overspends."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from glucosestream.dashboard.privacy_ledger import BudgetExhausted
from glucosestream.local.privacy_ledger import FilePrivacyLedger

JUNE = datetime(2025, 6, 14, 9, 30, tzinfo=UTC)
JULY = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)


def test_the_balance_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "privacy-ledger.json"
    FilePrivacyLedger(path, Decimal(3)).charge("local-user", Decimal("1.2"), JUNE)
    restarted = FilePrivacyLedger(path, Decimal(3))  # another process, another day
    balance = restarted.balance("local-user", JUNE)
    assert (balance.spent, balance.releases, balance.remaining) == (
        Decimal("1.2"),
        1,
        Decimal("1.8"),
    )
    restarted.charge("local-user", Decimal("1.8"), JUNE)
    with pytest.raises(BudgetExhausted, match="remains for you this month"):
        FilePrivacyLedger(path, Decimal(3)).charge("local-user", Decimal("0.1"), JUNE)
    assert restarted.balance("local-user", JULY).spent == 0  # a new month, a new budget
    assert restarted.balance("someone-else", JUNE).spent == 0
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "privacy-ledger.json",
        "privacy-ledger.json.lock",
    ]  # no temporary file left behind


def test_a_damaged_ledger_is_never_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "privacy-ledger.json"
    path.write_text('{"version": 1, "entries": {')  # torn by hand: the ledger never writes so
    with pytest.raises(RuntimeError, match="not valid JSON"):
        FilePrivacyLedger(path, Decimal(3)).charge("local-user", Decimal("0.1"), JUNE)


def test_threads_never_overspend(tmp_path: Path) -> None:
    ledger = FilePrivacyLedger(tmp_path / "ledger.json", Decimal(3))

    def attempt(_: int) -> bool:
        try:
            ledger.charge("local-user", Decimal("0.3"), JUNE)
        except BudgetExhausted:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = sum(pool.map(attempt, range(20)))
    assert won == 10
    balance = ledger.balance("local-user", JUNE)
    assert (balance.spent, balance.releases) == (Decimal("3.0"), 10)


def charge_repeatedly(path: str, attempts: int) -> int:
    """One process's share of the race (module level: spawned processes import it)."""
    ledger = FilePrivacyLedger(Path(path), Decimal(3))
    won = 0
    for _ in range(attempts):
        try:
            ledger.charge("local-user", Decimal("0.1"), JUNE)
            won += 1
        except BudgetExhausted:
            pass
    return won


def test_processes_never_overspend(tmp_path: Path) -> None:
    """Four processes race 12 charges of 0.1 each against a budget of 3: exactly 30 win."""
    path = tmp_path / "ledger.json"
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        won = sum(pool.starmap(charge_repeatedly, [(str(path), 12)] * 4))
    assert won == 30
    balance = FilePrivacyLedger(path, Decimal(3)).balance("local-user", JUNE)
    assert (balance.spent, balance.releases) == (Decimal("3.0"), 30)
