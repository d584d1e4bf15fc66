"""DynamoDB adapter for the Nightscout read path (:mod:`glucosestream.ingest.api.documents`).

One item per document: ``patient_id`` (partition key, the pseudonym), ``doc_key`` (sort key,
``<collection>#<date ms, 15 digits>#<identifier>``: a collection's documents in time order, so
a date range is one key-range Query), ``body`` (JSON), ``date``, ``expires_at`` (TTL, from the
document's date). A document stored with a modification time is also logged under
``~modified#<collection>#<srvModified>#<identifier>`` (API v3's history: one key range, no
index to add). Writes are BatchWriteItem (25 a call, unprocessed items retried with back-off);
reads are one Query, paged.

Entries and device status expire (their readings are in the lake; a device status is a passing
state); **treatments never do**: they reach no other store yet, and a TTL would lose them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
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
        items: dict[str, dict[str, Any]] = {}
        for d in documents:  # one request per key: BatchWriteItem refuses duplicate keys
            item = self._item(patient_id, collection, d, _key(collection, d.date_ms, d.identifier))
            items[item["doc_key"]["S"]] = {"PutRequest": {"Item": item}}
            if d.modified_ms is not None:
                logged = _modified_key(collection, d.modified_ms, d.identifier)
                items[logged] = {
                    "PutRequest": {"Item": self._item(patient_id, collection, d, logged)}
                }
        self._write(list(items.values()))

    def remove(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        keys = {_key(collection, d.date_ms, d.identifier) for d in documents}
        self._write(
            [
                {"DeleteRequest": {"Key": {"patient_id": {"S": patient_id}, "doc_key": {"S": k}}}}
                for k in sorted(keys)
            ]
        )

    def _write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in batches, unprocessed items retried with back-off."""
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

    def _item(
        self, patient_id: str, collection: str, document: Document, key: str
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "patient_id": {"S": patient_id},
            "doc_key": {"S": key},
            "body": {"S": json.dumps(document.body, separators=(",", ":"))},
            "date": {"N": str(document.date_ms)},
            "identifier": {"S": document.identifier},
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
        return self._query(patient_id, low, high, limit, newest_first=True)

    def with_identifier(self, patient_id: str, collection: str, identifier: str) -> list[Document]:
        """One Query over the collection's whole key range, DynamoDB keeping the items whose
        ``identifier`` attribute is the identifier, or, for items stored before that attribute
        was written, whose body holds it as a JSON string (a key cannot be filtered on); the
        match is then checked against the key. It reads, and bills, every item of the
        collection."""
        matching = _Filter(
            "#identifier = :identifier OR contains(#body, :quoted)",
            {"#identifier": "identifier", "#body": "body"},
            {":identifier": {"S": identifier}, ":quoted": {"S": json.dumps(identifier)}},
        )
        low, high = f"{collection}#", f"{collection}#\uffff"
        found = self._query(patient_id, low, high, None, newest_first=False, where=matching)
        return [d for d in found if d.identifier == identifier]

    def modified_since(
        self, patient_id: str, collection: str, since_ms: int, limit: int
    ) -> list[Document]:
        low = _modified_key(collection, since_ms + 1, "")
        high = _modified_key(collection, MAX_DATE_MS, "\uffff")
        return self._query(patient_id, low, high, limit, newest_first=False)

    def last_modified(self, patient_id: str, collection: str) -> int | None:
        low = _modified_key(collection, 0, "")
        high = _modified_key(collection, MAX_DATE_MS, "\uffff")
        newest = self._query(patient_id, low, high, 1, newest_first=True)
        return newest[0].modified_ms if newest else None

    def _query(
        self,
        patient_id: str,
        low: str,
        high: str,
        limit: int | None,
        *,
        newest_first: bool,
        where: _Filter | None = None,
    ) -> list[Document]:
        """The documents of a key range, up to ``limit`` (None: all), paged; ``where``: a
        filter DynamoDB applies to each page (``limit`` then counts items read, not kept)."""
        found: list[Document] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "patient_id = :p AND doc_key BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":p": {"S": patient_id},
                ":low": {"S": low},
                ":high": {"S": high},
                **(where.values if where else {}),
            },
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }
        if where is not None:
            request.update(FilterExpression=where.expression, ExpressionAttributeNames=where.names)
        while limit is None or len(found) < limit:
            page = 1000 if limit is None else min(limit - len(found), 1000)
            response = self.client.query(**request, Limit=page)
            for item in response.get("Items", []):
                found.append(_document(item))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found


@dataclass(frozen=True)
class _Filter:
    """A Query's FilterExpression with its attribute names and values."""

    expression: str
    names: dict[str, str]
    values: dict[str, dict[str, str]]


def _key(collection: str, date_ms: int, identifier: str) -> str:
    return f"{collection}#{date_ms:015d}#{identifier}"


def _modified_key(collection: str, modified_ms: int, identifier: str) -> str:
    """The modification log's key: ``~`` sorts it after every collection's documents, so a
    collection's date range never reads it."""
    return f"~modified#{collection}#{modified_ms:015d}#{identifier}"


def _document(item: dict[str, Any]) -> Document:
    key = item["doc_key"]["S"]
    body = json.loads(item["body"]["S"])
    modified = body.get("srvModified")
    if key.startswith("~modified#"):
        _, _, stamp, identifier = key.split("#", 3)
        return Document(int(item["date"]["N"]), identifier, body, int(stamp))
    _, date, identifier = key.split("#", 2)
    return Document(int(date), identifier, body, int(modified) if modified is not None else None)
