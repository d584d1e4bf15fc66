"""DynamoDB adapter for per-patient alert state, with optimistic concurrency.

One item per patient: ``patient_id`` (key), ``version`` (number, +1 per write), ``state`` (the
engine's state as JSON), ``outbox`` (alerts recorded but not yet confirmed published, as JSON),
``settings`` (the patient's alert settings as JSON, when set), ``expires_at`` (TTL: the state
of a patient silent for 30 days goes away — unless the patient has settings, which are a
clinician's configuration and never expire).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from glucosestream.alerts.ports import StateConflict, StoredState

TTL_SECONDS = 30 * 24 * 3600
MAX_CONCURRENT_READS = 8
"""BatchGetItems of one batch's patients in flight at once."""
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class PatientStateStore:
    """Reads in batches of 100 (BatchGetItem), writes one conditional PutItem per patient."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.writes = 0
        self.reads = 0
        self._lock = threading.Lock()

    def load_many(self, patient_ids: Iterable[str]) -> dict[str, StoredState]:
        """The stored states of these patients (an empty state for one never written); the
        BatchGetItems of 100 keys each run at once, so a batch of many patients waits for
        one round trip, not one a hundred of them."""
        wanted = list(dict.fromkeys(patient_ids))
        found: dict[str, StoredState] = {pid: StoredState(pid) for pid in wanted}
        chunks = [wanted[start : start + 100] for start in range(0, len(wanted), 100)]
        if len(chunks) > 1:
            with ThreadPoolExecutor(min(len(chunks), MAX_CONCURRENT_READS)) as pool:
                loaded = list(pool.map(self._load_chunk, chunks))
        else:
            loaded = [self._load_chunk(chunk) for chunk in chunks]
        for states in loaded:
            for stored in states:
                found[stored.patient_id] = stored
        return found

    def _load_chunk(self, patient_ids: list[str]) -> list[StoredState]:
        keys = [{"patient_id": {"S": pid}} for pid in patient_ids]
        request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
        states: list[StoredState] = []
        while request:
            with self._lock:
                self.reads += 1
            response = self.client.batch_get_item(RequestItems=request)
            states.extend(
                self._from_item(item) for item in response["Responses"].get(self.table, [])
            )
            request = response.get("UnprocessedKeys") or {}
        return states

    def load(self, patient_id: str) -> StoredState:
        return self.load_many([patient_id])[patient_id]

    def save(self, stored: StoredState, now_s: int) -> StoredState:
        """Write ``stored`` if nobody wrote since it was read; returns it with its new version."""
        new_version = stored.version + 1
        item = {
            "patient_id": stored.patient_id,
            "version": new_version,
            "state": json.dumps(stored.state, separators=(",", ":")),
            "outbox": json.dumps(stored.outbox, separators=(",", ":")),
        }
        if stored.settings is not None:
            # A clinician's settings are configuration, not passing state: they never expire.
            item["settings"] = json.dumps(stored.settings, separators=(",", ":"))
        else:
            item["expires_at"] = now_s + TTL_SECONDS
        if stored.version == 0:
            condition, values = "attribute_not_exists(patient_id)", {}
        else:
            condition, values = "version = :expected", {":expected": {"N": str(stored.version)}}
        self.writes += 1
        try:
            self.client.put_item(
                TableName=self.table,
                Item={k: _serializer.serialize(v) for k, v in item.items()},
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise StateConflict(f"state of {stored.patient_id} changed concurrently") from None
        return dataclasses.replace(stored, version=new_version, outbox=list(stored.outbox))

    @staticmethod
    def _from_item(item: dict[str, Any]) -> StoredState:
        plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
        return StoredState(
            patient_id=str(plain["patient_id"]),
            version=int(plain["version"]),
            state=json.loads(plain["state"]),
            outbox=json.loads(plain.get("outbox", "[]")),
            settings=json.loads(plain["settings"]) if "settings" in plain else None,
        )
