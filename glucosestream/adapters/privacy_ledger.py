"""DynamoDB adapter for the dashboard's privacy budget ledger.

The table is ``ResourceNames.privacy_ledger_table`` (``gs-<env>-privacy-ledger``).

One item per user per budget window: ``user_id`` (hash key: the Cognito ``sub`` the ALB
passes), ``budget_window`` (range key, ``YYYY-MM``), ``spent`` (number: ε spent), ``releases``
(number), ``budget`` (number: the budget the last charge was checked against), ``updated_at``.

A charge is one ``UpdateItem`` whose ``ConditionExpression`` is spent + ε <= budget, written as
``spent <= budget - ε`` (DynamoDB conditions do no arithmetic), or no item yet: DynamoDB applies
the check and the increment atomically, so two concurrent releases can never overspend. Reads
are strongly consistent ``GetItem``. Exactly these two calls: the task role is granted
``dynamodb:GetItem`` and ``dynamodb:UpdateItem`` on the table and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from glucosestream.dashboard.privacy_ledger import (
    Balance,
    BudgetExhausted,
    budget_window,
    check_charge,
)

HASH_KEY = "user_id"
RANGE_KEY = "budget_window"
"""The table's key (both strings); Terraform's table must declare the same
(tests/terraform/test_contract.py)."""


class DynamoDbPrivacyLedger:
    """A :class:`~glucosestream.dashboard.privacy_ledger.PrivacyLedger` in a DynamoDB table."""

    def __init__(self, client: Any, table: str, budget: Decimal) -> None:
        if budget <= 0:
            raise ValueError("the privacy budget must be positive")
        self.client = client
        self.table = table
        self._budget = budget

    @property
    def budget(self) -> Decimal:
        return self._budget

    @staticmethod
    def _key(user_id: str, window: str) -> dict[str, dict[str, str]]:
        return {HASH_KEY: {"S": user_id}, RANGE_KEY: {"S": window}}

    def _from_item(self, user_id: str, window: str, item: dict[str, Any] | None) -> Balance:
        if not item:
            return Balance(user_id, window, Decimal(0), self._budget)
        return Balance(
            user_id,
            window,
            Decimal(item["spent"]["N"]),
            self._budget,
            int(item.get("releases", {"N": "0"})["N"]),
        )

    def balance(self, user_id: str, at: datetime) -> Balance:
        window = budget_window(at)
        response = self.client.get_item(
            TableName=self.table, Key=self._key(user_id, window), ConsistentRead=True
        )
        return self._from_item(user_id, window, response.get("Item"))

    def charge(self, user_id: str, epsilon: Decimal, at: datetime) -> Balance:
        check_charge(user_id, epsilon)
        window = budget_window(at)
        if epsilon > self._budget:
            raise BudgetExhausted(Balance(user_id, window, Decimal(0), self._budget), epsilon)
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=self._key(user_id, window),
                UpdateExpression=(
                    "SET #spent = if_not_exists(#spent, :zero) + :epsilon, "
                    "#releases = if_not_exists(#releases, :zero) + :one, "
                    "#budget = :budget, #updated = :updated"
                ),
                ConditionExpression="attribute_not_exists(#spent) OR #spent <= :limit",
                ExpressionAttributeNames={
                    "#spent": "spent",
                    "#releases": "releases",
                    "#budget": "budget",
                    "#updated": "updated_at",
                },
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":epsilon": {"N": str(epsilon)},
                    ":budget": {"N": str(self._budget)},
                    ":limit": {"N": str(self._budget - epsilon)},
                    ":updated": {"S": at.isoformat()},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as failed:
            item = failed.response.get("Item")
            raise BudgetExhausted(self._from_item(user_id, window, item), epsilon) from None
        return self._from_item(user_id, window, response["Attributes"])
