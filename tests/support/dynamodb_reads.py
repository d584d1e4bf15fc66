"""A DynamoDB client that counts the items its reads return, for tests and benchmarks that say
how much a lookup reads (what DynamoDB bills), not only what it finds."""

from __future__ import annotations

from typing import Any


class CountingClient:
    """Wraps a boto3 DynamoDB client; counts the items its Queries and BatchGetItems return."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.items_read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def query(self, **request: Any) -> Any:
        response = self.client.query(**request)
        self.items_read += len(response.get("Items", []))
        return response

    def batch_get_item(self, **request: Any) -> Any:
        response = self.client.batch_get_item(**request)
        self.items_read += sum(len(items) for items in response["Responses"].values())
        return response
