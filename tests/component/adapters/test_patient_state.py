"""The DynamoDB patient-state adapter against moto, on the table as the local stack provisions
it: many patients load in BatchGetItems of 100 sent at once, unprocessed keys are asked again."""

from __future__ import annotations

import threading
from typing import Any

import boto3

from glucosestream.adapters.patient_state import PatientStateStore
from glucosestream.alerts.ports import StoredState
from glucosestream.settings import Settings

STATE = {"tail": [[1_767_600_000_000, 64, 1_767_600_001_000, "dexcom-g7", 60]]}


class ConcurrentReads:
    """A DynamoDB client whose BatchGetItems wait (up to 5 s) until ``together`` are in flight,
    and whose first answer leaves one key unprocessed, as DynamoDB may."""

    def __init__(self, client: Any, together: int) -> None:
        self.client = client
        self.together = together
        self.barrier = threading.Barrier(together, timeout=5)
        self.requests = 0
        self.lock = threading.Lock()

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        with self.lock:
            self.requests += 1
            number = self.requests
        if number <= self.together:
            self.barrier.wait()  # BrokenBarrierError if they are sent one after another
        ((table, request),) = RequestItems.items()
        if number > 1:
            return self.client.batch_get_item(RequestItems=RequestItems)  # type: ignore[no-any-return]
        kept, left = request["Keys"][:-1], request["Keys"][-1:]
        response = self.client.batch_get_item(RequestItems={table: {**request, "Keys": kept}})
        return {**response, "UnprocessedKeys": {table: {**request, "Keys": left}}}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_many_patients_load_in_concurrent_batches_of_100(aws_mode: Settings) -> None:
    table = aws_mode.names.patient_state_table
    writer = PatientStateStore(boto3.client("dynamodb"), table)
    patients = [f"p_{i:032x}" for i in range(250)]
    for pid in patients:
        writer.save(StoredState(pid, state=STATE), 1_767_600_000)
    reads = ConcurrentReads(boto3.client("dynamodb"), together=3)
    store = PatientStateStore(reads, table)
    never_written = "p_" + "f" * 32
    loaded = store.load_many([*patients, never_written, patients[0]])
    assert list(loaded) == [*patients, never_written]
    assert all(loaded[pid] == StoredState(pid, 1, STATE, []) for pid in patients)
    assert loaded[never_written] == StoredState(never_written)
    # 3 BatchGetItems (100, 100, 51 keys) in flight at once, one more for the unprocessed key.
    assert store.reads == reads.requests == 4
