"""The privacy budget ledger on one machine: a JSON file under ``settings.state_dir``.

Layout of ``privacy-ledger.json``::

    {"version": 1,
     "entries": {"<user_id>": {"2025-06": {"spent": "1.5", "budget": "3", "releases": 3,
                                           "updated_at": "2025-06-14T10:00:00+00:00"}}}}

Amounts are decimal strings (exact). A charge takes an exclusive ``flock`` on a lock file beside
the ledger, reads, checks spent + ε <= budget, writes a temporary file, fsyncs it and renames it
over the ledger (then fsyncs the directory): two processes, or two threads (each charge opens
its own lock file description), can never both pass the check on the same balance, and a crash
leaves the old ledger or the new one, never a torn file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from glucosestream.dashboard.privacy_ledger import (
    Balance,
    BudgetExhausted,
    budget_window,
    check_charge,
)
from glucosestream.lake.durable_files import atomic_text_file

LEDGER_FILE = "privacy-ledger.json"
FORMAT_VERSION = 1


class FilePrivacyLedger:
    """A :class:`~glucosestream.dashboard.privacy_ledger.PrivacyLedger` in a local JSON file."""

    def __init__(self, path: Path, budget: Decimal) -> None:
        if budget <= 0:
            raise ValueError("the privacy budget must be positive")
        self.path = path
        self._budget = budget
        self._lock_path = path.with_name(path.name + ".lock")

    @property
    def budget(self) -> Decimal:
        return self._budget

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": FORMAT_VERSION, "entries": {}}
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            # Never start again from zero on a damaged ledger: that would hand out new budget.
            raise RuntimeError(f"privacy ledger {self.path} is not valid JSON: {error}") from None
        if document.get("version") != FORMAT_VERSION:
            raise RuntimeError(
                f"privacy ledger {self.path}: unknown format {document.get('version')}"
            )
        return dict(document)

    def _write(self, document: dict[str, Any]) -> None:
        with atomic_text_file(self.path, permissions=0o600) as out:
            json.dump(document, out, indent=1, sort_keys=True)

    def _balance(self, document: dict[str, Any], user_id: str, window: str) -> Balance:
        entry = document["entries"].get(user_id, {}).get(window)
        if entry is None:
            return Balance(user_id, window, Decimal(0), self._budget)
        return Balance(
            user_id, window, Decimal(entry["spent"]), self._budget, int(entry["releases"])
        )

    def balance(self, user_id: str, at: datetime) -> Balance:
        with self._locked():
            return self._balance(self._read(), user_id, budget_window(at))

    def charge(self, user_id: str, epsilon: Decimal, at: datetime) -> Balance:
        check_charge(user_id, epsilon)
        window = budget_window(at)
        with self._locked():
            document = self._read()
            before = self._balance(document, user_id, window)
            if before.spent + epsilon > self._budget:
                raise BudgetExhausted(before, epsilon)
            after = Balance(
                user_id, window, before.spent + epsilon, self._budget, before.releases + 1
            )
            document["entries"].setdefault(user_id, {})[window] = {
                "spent": str(after.spent),
                "budget": str(self._budget),
                "releases": after.releases,
                "updated_at": at.isoformat(),
            }
            self._write(document)
            return after
