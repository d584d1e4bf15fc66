"""The DynamoDB privacy ledger against moto: conditional charges, windows, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from glucosestream.adapters.privacy_ledger import HASH_KEY, RANGE_KEY, DynamoDbPrivacyLedger
from glucosestream.dashboard.privacy_ledger import BudgetExhausted
from glucosestream.settings import ResourceNames

TABLE = ResourceNames(env="test").privacy_ledger_table
JUNE = datetime(2025, 6, 30, 23, 59, tzinfo=UTC)
JULY = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)
USER = "5f0c1d6e-8a40-4b5e-9a57-0d4c1f2b9e11"  # a Cognito sub


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": HASH_KEY, "KeyType": "HASH"},
                {"AttributeName": RANGE_KEY, "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": HASH_KEY, "AttributeType": "S"},
                {"AttributeName": RANGE_KEY, "AttributeType": "S"},
            ],
        )
        yield dynamodb


def test_charges_add_up_exactly_and_refuse_past_the_budget(client: Any) -> None:
    ledger = DynamoDbPrivacyLedger(client, TABLE, Decimal(1))
    assert ledger.balance(USER, JUNE).spent == 0
    for _ in range(10):
        ledger.charge(USER, Decimal("0.1"), JUNE)  # 10 × 0.1 is exactly 1 in decimals
    with pytest.raises(BudgetExhausted, match="0 of 1 remains for you this month") as refused:
        ledger.charge(USER, Decimal("0.01"), JUNE)
    assert refused.value.balance.spent == Decimal(1)
    balance = ledger.balance(USER, JUNE)
    assert (balance.spent, balance.releases) == (Decimal(1), 10)
    item = client.get_item(
        TableName=TABLE, Key={HASH_KEY: {"S": USER}, RANGE_KEY: {"S": "2025-06"}}
    )["Item"]
    assert Decimal(item["spent"]["N"]) == 1
    assert item["updated_at"] == {"S": JUNE.isoformat()}


def test_the_window_is_the_calendar_month(client: Any) -> None:
    ledger = DynamoDbPrivacyLedger(client, TABLE, Decimal(1))
    ledger.charge(USER, Decimal(1), JUNE)
    with pytest.raises(BudgetExhausted, match="whole again on 2025-07-01"):
        ledger.charge(USER, Decimal("0.5"), JUNE)
    after = ledger.charge(USER, Decimal("0.5"), JULY)
    assert (after.window, after.spent) == ("2025-07", Decimal("0.5"))
    assert ledger.balance("another-user", JUNE).spent == 0


def test_a_charge_larger_than_the_budget_is_refused_without_a_write(client: Any) -> None:
    ledger = DynamoDbPrivacyLedger(client, TABLE, Decimal(1))
    with pytest.raises(BudgetExhausted):
        ledger.charge(USER, Decimal("1.5"), JUNE)
    assert "Item" not in client.get_item(
        TableName=TABLE, Key={HASH_KEY: {"S": USER}, RANGE_KEY: {"S": "2025-06"}}
    )


@pytest.mark.parametrize(
    ("user", "epsilon"), [("", Decimal(1)), (USER, Decimal(0)), (USER, Decimal("NaN"))]
)
def test_bad_charges_are_refused(client: Any, user: str, epsilon: Decimal) -> None:
    with pytest.raises(ValueError, match=r"ledger user id|positive ε"):
        DynamoDbPrivacyLedger(client, TABLE, Decimal(1)).charge(user, epsilon, JUNE)


class AtomicRequests:
    """DynamoDB's guarantee, which moto's in-process backend does not give under threads: each
    request is applied to an item atomically. Client code that read, checked and then wrote in
    two requests would still overspend through this; a single conditional update cannot."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.exceptions = client.exceptions
        self.operations: list[str] = []
        self._lock = threading.Lock()

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            with self._lock:
                self.operations.append(operation)
                return getattr(self.client, operation)(**kwargs)

        return call


def test_concurrent_charges_never_overspend(client: Any) -> None:
    """Twenty threads race 0.3 each against a budget of 3: exactly ten win."""
    atomic = AtomicRequests(client)
    ledger = DynamoDbPrivacyLedger(atomic, TABLE, Decimal(3))

    def attempt(_: int) -> bool:
        try:
            ledger.charge(USER, Decimal("0.3"), JUNE)
        except BudgetExhausted:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = sum(pool.map(attempt, range(20)))
    balance = ledger.balance(USER, JUNE)
    assert won == 10
    assert (balance.spent, balance.releases) == (Decimal("3.0"), 10)
    # One conditional request per charge (no read-then-write), and only the two calls the
    # dashboard's task role is granted.
    assert atomic.operations.count("update_item") == 20
    assert set(atomic.operations) == {"update_item", "get_item"}
