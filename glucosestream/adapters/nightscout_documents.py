"""DynamoDB adapter for the Nightscout read path (:mod:`glucosestream.ingest.api.documents`).

One item per document: ``patient_id`` (partition key, the pseudonym), ``doc_key`` (sort key,
``<collection>#<date ms, 15 digits>#<identifier>``: a collection's documents in time order, so
a date range is one key-range Query), ``body`` (JSON), ``expires_at`` (TTL, from the document's
date). Writes are BatchWriteItem (25 a call, unprocessed items retried with back-off); reads are
one Query newest first, paged.

Entries and device status expire (their readings are in the lake; a device status is a passing
state); **treatments never do**: they reach no other store yet, and a TTL would lose them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from glucosestream.ingest.api.documents import Document

MAX_DATE_MS = 10**15 - 1
EXPIRING = frozenset({"entries", "devicestatus"})
BATCH = 25
MAX_ATTEMPTS = 8


class NightscoutDocuments:
    def __init__(self, client: Any, table: str, retention_days: int) -> None:
        self.client = client
        self.table = table
        self.retention_s = retention_days * 86_400

    def put(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        items = {
            _key(collection, d.date_ms, d.identifier): {
                "PutRequest": {"Item": self._item(patient_id, collection, d)}
            }
            for d in documents
        }  # one request per key: BatchWriteItem refuses duplicate keys in a call
        requests = list(items.values())
        for start in range(0, len(requests), BATCH):
            pending = requests[start : start + BATCH]
            for attempt in range(MAX_ATTEMPTS):
                response = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise RuntimeError(f"{len(pending)} documents unprocessed by DynamoDB")

    def _item(self, patient_id: str, collection: str, document: Document) -> dict[str, Any]:
        item: dict[str, Any] = {
            "patient_id": {"S": patient_id},
            "doc_key": {"S": _key(collection, document.date_ms, document.identifier)},
            "body": {"S": json.dumps(document.body, separators=(",", ":"))},
        }
        if collection in EXPIRING:
            item["expires_at"] = {"N": str(document.date_ms // 1000 + self.retention_s)}
        return item

    def newest(
        self,
        patient_id: str,
        collection: str,
        *,
        date_from: int | None = None,
        date_to: int | None = None,
        limit: int,
    ) -> list[Document]:
        low = f"{collection}#{max(date_from or 0, 0):015d}#"
        upper = MAX_DATE_MS if date_to is None else min(date_to, MAX_DATE_MS)
        high = f"{collection}#{upper:015d}#\uffff"
        found: list[Document] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "patient_id = :p AND doc_key BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":p": {"S": patient_id},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        while len(found) < limit:
            response = self.client.query(**request, Limit=min(limit - len(found), 1000))
            for item in response.get("Items", []):
                _, date, identifier = item["doc_key"]["S"].split("#", 2)
                found.append(Document(int(date), identifier, json.loads(item["body"]["S"])))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found


def _key(collection: str, date_ms: int, identifier: str) -> str:
    return f"{collection}#{date_ms:015d}#{identifier}"
