"""The privacy budget ledger port: how much ε each dashboard user has spent in a budget window.

Implementations: :class:`glucosestream.adapters.privacy_ledger.DynamoDbPrivacyLedger` (aws mode:
one conditional ``UpdateItem`` per charge) and
:class:`glucosestream.local.privacy_ledger.FilePrivacyLedger` (local mode: a JSON file under
``settings.state_dir``, rewritten atomically under an exclusive lock). Only the composition
roots choose one.

**Budget window: one calendar month (UTC) per user.** The window is part of the key
(``user_id``, ``YYYY-MM``), so a new month starts a new entry at zero: the reset needs no job and
no write, and cannot race with a release. A month is long enough that a user cannot drain the
cohort's privacy by reloading or by waiting a day, and short enough that the dashboard stays
usable. What the window bounds is the privacy loss one user can cause per month; over several
months the losses add up, and two users are two budgets (an organisation sharing releases
outside the care team should give each outside party one account).

A charge is all or nothing and is recorded BEFORE any value is shown: a release that was not
charged is never shown, and a charge whose release then fails is not refunded (the safe way).
Amounts are :class:`~decimal.Decimal` so that spent + ε <= budget is decided exactly, the same
way in DynamoDB (a decimal number type) and in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol


def budget_window(at: datetime) -> str:
    """The budget window ``at`` falls in: its calendar month in UTC, ``YYYY-MM``."""
    if at.tzinfo is None:
        raise ValueError("budget windows are computed from an aware datetime (UTC)")
    return at.astimezone(UTC).strftime("%Y-%m")


def window_end(window: str) -> date:
    """The first day of the next window (when the budget is whole again)."""
    year, month = (int(part) for part in window.split("-"))
    return date(year + month // 12, month % 12 + 1, 1)


def as_amount(epsilon: float | Decimal) -> Decimal:
    """ε as an exact decimal (a float's shortest repr: 0.1 stays 0.1)."""
    if isinstance(epsilon, Decimal):
        return epsilon
    return Decimal(repr(float(epsilon)))


MAX_USER_ID_LENGTH = 256


def check_charge(user_id: str, epsilon: Decimal) -> None:
    """Bad input to a ledger, refused with a one-line reason."""
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH or not user_id.isprintable():
        raise ValueError(f"a ledger user id is 1-{MAX_USER_ID_LENGTH} printable characters")
    if not epsilon.is_finite() or epsilon <= 0:
        raise ValueError(f"a charge is a positive ε, got {epsilon}")


@dataclass(frozen=True, slots=True)
class Balance:
    """One user's standing in one budget window."""

    user_id: str
    window: str
    spent: Decimal
    budget: Decimal
    releases: int = 0

    @property
    def remaining(self) -> Decimal:
        return max(self.budget - self.spent, Decimal(0))

    def describe(self) -> str:
        return (
            f"ε {float(self.spent):.3g} spent of {float(self.budget):g} this month "
            f"({self.window}, whole again on {window_end(self.window)} UTC)"
        )


class BudgetExhausted(RuntimeError):
    """A release that would take the user past the window's budget: nothing was charged and
    nothing released."""

    def __init__(self, balance: Balance, cost: Decimal) -> None:
        super().__init__(
            f"Privacy budget spent: this release needs ε = {float(cost):.2g}, "
            f"{float(balance.remaining):.2g} of {float(balance.budget):g} remains for you this "
            f"month ({balance.window}; whole again on {window_end(balance.window)} UTC). "
            "No statistic was released."
        )
        self.balance = balance
        self.cost = cost


class PrivacyLedger(Protocol):
    """ε spent per user per budget window, charged atomically."""

    @property
    def budget(self) -> Decimal:
        """ε one user may spend per window."""
        ...

    def balance(self, user_id: str, at: datetime) -> Balance:
        """The user's balance in the window of ``at`` (zero spent when there is no entry)."""
        ...

    def charge(self, user_id: str, epsilon: Decimal, at: datetime) -> Balance:
        """Record ``epsilon`` as spent by the user in the window of ``at``, atomically: two
        concurrent charges can never together exceed the budget. Returns the balance after the
        charge; raises :class:`BudgetExhausted` (nothing recorded) when it does not fit."""
        ...
