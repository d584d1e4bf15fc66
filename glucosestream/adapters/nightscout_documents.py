"""DynamoDB adapter for the Nightscout read path (:mod:`glucosestream.ingest.api.documents`).

One item per document: ``patient_id`` (partition key, the pseudonym), ``doc_key`` (sort key,
``<collection>#<date ms, 15 digits>#<identifier>``: a collection's documents in time order, so
a date range is one key-range Query), ``body`` (JSON), ``date``, ``expires_at`` (TTL, from the
document's date). Beside each document, in the same partition and no index to add:

- a treatment's reference, ``~identifier#<collection>#<identifier>#<date ms>`` (no body), so a
  treatment is found by its identifier whatever its age with a Query of that prefix and a
  BatchGetItem, not by reading the collection (which never expires). Treatments stored before
  references existed get theirs when an instance first writes to or looks up the collection
  (one pass over its keys), then ``~indexed#<collection>`` marks it done. Entries and device
  status have none: they are written every few minutes and looked up by identifier rarely, and
  their collections are bounded by the retention, so a lookup reads the collection (filtered
  by DynamoDB on each item's ``identifier`` attribute);
- a document stored with a modification time is also logged under
  ``~modified#<collection>#<srvModified>#<identifier>`` (API v3's history: one key range).

``~`` sorts these after every collection's documents, so a collection's date range never reads
them. Writes are BatchWriteItem (25 a call, unprocessed items retried with back-off); reads are
one Query, paged.

Entries and device status expire (their readings are in the lake; a device status is a passing
state); **treatments never do**: they reach no other store yet, and a TTL would lose them; nor
do profiles and foods (settings: a profile set a year ago may still be the current one), which
are referenced as treatments are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from glucosestream.ingest.api.documents import Document

MAX_DATE_MS = 10**15 - 1
EXPIRING = frozenset({"entries", "devicestatus"})
"""Collections with a TTL; the others keep a reference beside each document."""
BATCH = 25
"""Items a BatchWriteItem takes."""
BATCH_GET = 100
"""Keys a BatchGetItem takes."""
MAX_ATTEMPTS = 8


class NightscoutDocuments:
    def __init__(self, client: Any, table: str, retention_days: int) -> None:
        self.client = client
        self.table = table
        self.retention_s = retention_days * 86_400
        self._indexed: set[tuple[str, str]] = set()
        """(patient, collection) whose every document has its reference (a marker is stored)."""

    def put(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        referenced = collection not in EXPIRING
        if referenced:
            # A collection's first write (per instance) makes sure the documents already there
            # have references, so lookups later need no pass over it.
            self._index_once(patient_id, collection)
        items: dict[str, dict[str, Any]] = {}
        for d in documents:  # one request per key: BatchWriteItem refuses duplicate keys
            item = self._item(patient_id, collection, d, _key(collection, d.date_ms, d.identifier))
            items[item["doc_key"]["S"]] = {"PutRequest": {"Item": item}}
            if referenced:
                reference = self._reference(patient_id, collection, d.date_ms, d.identifier)
                items[reference["doc_key"]["S"]] = {"PutRequest": {"Item": reference}}
            if d.modified_ms is not None:
                logged = _modified_key(collection, d.modified_ms, d.identifier)
                items[logged] = {
                    "PutRequest": {"Item": self._item(patient_id, collection, d, logged)}
                }
        self._write(list(items.values()))

    def remove(self, patient_id: str, collection: str, documents: Sequence[Document]) -> None:
        keys = {_key(collection, d.date_ms, d.identifier) for d in documents}
        if collection not in EXPIRING:
            keys |= {_identifier_key(collection, d.identifier, d.date_ms) for d in documents}
        self._write(
            [
                {"DeleteRequest": {"Key": {"patient_id": {"S": patient_id}, "doc_key": {"S": k}}}}
                for k in sorted(keys)
            ]
        )

    def _write(self, requests: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem in batches, unprocessed items retried with back-off."""
        for start in range(0, len(requests), BATCH):
            self._batch(
                lambda items: self.client.batch_write_item(RequestItems=items),
                requests[start : start + BATCH],
                "UnprocessedItems",
                lambda left: f"{len(left)} documents unprocessed by DynamoDB",
            )

    def _batch(
        self,
        send: Callable[[dict[str, Any]], dict[str, Any]],
        pending: Any,
        unprocessed: str,
        failure: Callable[[Any], str],
    ) -> list[dict[str, Any]]:
        """One batch request (``send`` takes its RequestItems) for the table, sent again with
        what DynamoDB left ``unprocessed`` (backing off) until nothing is left; every response.
        RuntimeError(``failure(left)``) after :data:`MAX_ATTEMPTS`."""
        responses = []
        for attempt in range(MAX_ATTEMPTS):
            response = send({self.table: pending})
            responses.append(response)
            pending = response.get(unprocessed, {}).get(self.table)
            if not pending:
                return responses
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise RuntimeError(failure(pending))

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

    @staticmethod
    def _reference(
        patient_id: str, collection: str, date_ms: int, identifier: str
    ) -> dict[str, Any]:
        """The item that finds a document of a collection without a TTL by its identifier."""
        return {
            "patient_id": {"S": patient_id},
            "doc_key": {"S": _identifier_key(collection, identifier, date_ms)},
            "date": {"N": str(date_ms)},
        }

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
        return _documents(self._items(patient_id, low, high, limit, newest_first=True))

    def with_identifiers(
        self, patient_id: str, collection: str, identifiers: Iterable[str]
    ) -> list[Document]:
        """A Query of each identifier's references (an item or two each), then one
        BatchGetItem of the documents they name; a reference whose document is gone (removed
        between the two) names nothing. A collection with a TTL: one Query of the collection
        an identifier, DynamoDB keeping the items whose ``identifier`` attribute is it (or
        whose body holds it, stored before the attribute), the match then checked against the
        key; it reads, and bills, the whole collection."""
        if collection in EXPIRING:
            return sorted(
                (
                    document
                    for identifier in dict.fromkeys(identifiers)
                    for document in self._scanned(patient_id, collection, identifier)
                ),
                key=lambda d: (d.date_ms, d.identifier),
            )
        self._index_once(patient_id, collection)
        keys: list[str] = []
        for identifier in dict.fromkeys(identifiers):
            prefix = _identifier_key(collection, identifier, None)
            for key in self._keys(patient_id, prefix, prefix + "\uffff"):
                date = key[len(prefix) :]
                if len(date) == 15 and date.isdigit():  # not a longer identifier beginning so
                    keys.append(_key(collection, int(date), identifier))
        found = self._get(patient_id, keys)
        return sorted(found, key=lambda d: (d.date_ms, d.identifier))

    def _scanned(self, patient_id: str, collection: str, identifier: str) -> list[Document]:
        # Items stored before the identifier attribute was written hold it in their body.
        holding = _Filter(
            "#identifier = :identifier OR contains(#body, :quoted)",
            {"#identifier": "identifier", "#body": "body"},
            {":identifier": {"S": identifier}, ":quoted": {"S": json.dumps(identifier)}},
        )
        low, high = f"{collection}#", f"{collection}#\uffff"
        found = _documents(
            self._items(patient_id, low, high, None, newest_first=False, where=holding)
        )
        return [d for d in found if d.identifier == identifier]

    def _index_once(self, patient_id: str, collection: str) -> None:
        """Give the collection's documents stored before references existed theirs, once: the
        marker is written after them, so an interrupted pass is done again (idempotent)."""
        if (patient_id, collection) in self._indexed:
            return
        marker = {"patient_id": {"S": patient_id}, "doc_key": {"S": f"~indexed#{collection}"}}
        if "Item" not in self.client.get_item(
            TableName=self.table, Key=marker, ConsistentRead=True
        ):
            references = []
            for key in self._keys(patient_id, f"{collection}#", f"{collection}#\uffff"):
                _, date, identifier = key.split("#", 2)
                reference = self._reference(patient_id, collection, int(date), identifier)
                references.append({"PutRequest": {"Item": reference}})
            self._write(references)
            self.client.put_item(TableName=self.table, Item=marker)
        self._indexed.add((patient_id, collection))

    def _keys(self, patient_id: str, low: str, high: str) -> list[str]:
        """The sort keys of the patient's items in a key range (keys only, paged)."""
        items = self._items(patient_id, low, high, None, newest_first=False, keys_only=True)
        return [item["doc_key"]["S"] for item in items]

    def _get(self, patient_id: str, keys: Sequence[str]) -> list[Document]:
        """The documents stored under these sort keys (absent ones skipped): BatchGetItem,
        unprocessed keys retried with back-off."""
        found: list[Document] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET):
            request = {
                "Keys": [
                    {"patient_id": {"S": patient_id}, "doc_key": {"S": key}}
                    for key in unique[start : start + BATCH_GET]
                ],
                "ConsistentRead": True,
            }
            for response in self._batch(
                lambda items: self.client.batch_get_item(RequestItems=items),
                request,
                "UnprocessedKeys",
                lambda left: f"{len(left['Keys'])} documents unread by DynamoDB",
            ):
                found.extend(_document(item) for item in response["Responses"].get(self.table, []))
        return found

    def modified_since(
        self, patient_id: str, collection: str, since_ms: int, limit: int
    ) -> list[Document]:
        low = _modified_key(collection, since_ms + 1, "")
        high = _modified_key(collection, MAX_DATE_MS, "\uffff")
        return _documents(self._items(patient_id, low, high, limit, newest_first=False))

    def last_modified(self, patient_id: str, collection: str) -> int | None:
        low = _modified_key(collection, 0, "")
        high = _modified_key(collection, MAX_DATE_MS, "\uffff")
        newest = _documents(self._items(patient_id, low, high, 1, newest_first=True))
        return newest[0].modified_ms if newest else None

    def _items(
        self,
        patient_id: str,
        low: str,
        high: str,
        limit: int | None,
        *,
        newest_first: bool,
        where: _Filter | None = None,
        keys_only: bool = False,
    ) -> list[dict[str, Any]]:
        """The items of a key range as DynamoDB returns them (one Query, paged), up to
        ``limit`` (None: all); ``where``: a filter DynamoDB applies to each page (``limit`` then
        counts items read, not kept); ``keys_only``: their sort keys alone."""
        found: list[dict[str, Any]] = []
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
        if keys_only:
            request["ProjectionExpression"] = "doc_key"
        while limit is None or len(found) < limit:
            page = 1000 if limit is None else min(limit - len(found), 1000)
            response = self.client.query(**request, Limit=page)
            found.extend(response.get("Items", []))
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


def _identifier_key(collection: str, identifier: str, date_ms: int | None) -> str:
    """A document's reference; without a date, the prefix of every reference of the
    identifier."""
    prefix = f"~identifier#{collection}#{identifier}#"
    return prefix if date_ms is None else f"{prefix}{date_ms:015d}"


def _modified_key(collection: str, modified_ms: int, identifier: str) -> str:
    """The modification log's key: ``~`` sorts it after every collection's documents, so a
    collection's date range never reads it."""
    return f"~modified#{collection}#{modified_ms:015d}#{identifier}"


def _documents(items: list[dict[str, Any]]) -> list[Document]:
    return [_document(item) for item in items]


def _document(item: dict[str, Any]) -> Document:
    key = item["doc_key"]["S"]
    body = json.loads(item["body"]["S"])
    modified = body.get("srvModified")
    if key.startswith("~modified#"):
        _, _, stamp, identifier = key.split("#", 3)
        return Document(int(item["date"]["N"]), identifier, body, int(stamp))
    _, date, identifier = key.split("#", 2)
    return Document(int(date), identifier, body, int(modified) if modified is not None else None)
