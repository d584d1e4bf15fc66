"""One contract for the Nightscout document store, run against the DynamoDB adapter (moto, the
table as the local stack provisions it) and the in-memory one the unit tests use."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from glucosestream.adapters.nightscout_documents import NightscoutDocuments
from glucosestream.ingest.api.documents import Document
from glucosestream.settings import Settings
from tests.support.dynamodb_reads import CountingClient
from tests.support.nightscout_documents import InMemoryDocuments

T0 = 1_767_600_000_000
P = "p_" + "1" * 32


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryDocuments()
    settings: Settings = request.getfixturevalue("aws_mode")
    return NightscoutDocuments(boto3.client("dynamodb"), settings.names.nightscout_table, 14)


def doc(minute: int, sgv: int, identifier: str | None = None) -> Document:
    return Document(
        T0 + minute * 60_000, identifier or f"id-{minute}", {"sgv": sgv, "minute": minute}
    )


def test_newest_first_within_an_inclusive_range(store: Any) -> None:
    store.put(P, "entries", [doc(m, 100 + m) for m in range(0, 60, 5)])
    got = store.newest(
        P, "entries", date_from=T0 + 10 * 60_000, date_to=T0 + 30 * 60_000, limit=100
    )
    assert [d.body["minute"] for d in got] == [30, 25, 20, 15, 10]
    assert [d.body["minute"] for d in store.newest(P, "entries", limit=2)] == [55, 50]
    assert store.newest(P, "entries", date_to=T0 - 1, limit=5) == []


def test_a_document_written_again_is_replaced_not_doubled(store: Any) -> None:
    store.put(P, "entries", [doc(0, 100), doc(5, 110)])
    store.put(P, "entries", [doc(5, 111)])
    got = store.newest(P, "entries", limit=10)
    assert [(d.body["minute"], d.body["sgv"]) for d in got] == [(5, 111), (0, 100)]


def test_collections_and_patients_are_apart(store: Any) -> None:
    store.put(P, "entries", [doc(0, 100)])
    store.put(P, "treatments", [doc(1, 0, "bolus-1")])
    store.put("p_" + "2" * 32, "entries", [doc(2, 90)])
    assert [d.identifier for d in store.newest(P, "entries", limit=10)] == ["id-0"]
    assert [d.identifier for d in store.newest(P, "treatments", limit=10)] == ["bolus-1"]


def test_more_than_a_batch_and_a_page(store: Any) -> None:
    store.put(P, "entries", [doc(m, 100) for m in range(2100)])  # 84 write batches
    got = store.newest(P, "entries", limit=2050)
    assert len(got) == 2050
    assert got[0].body["minute"] == 2099
    assert got[-1].body["minute"] == 50


def test_entries_and_device_status_expire_treatments_are_kept(aws_mode: Settings) -> None:
    store = NightscoutDocuments(boto3.client("dynamodb"), aws_mode.names.nightscout_table, 14)
    for collection in ("entries", "devicestatus", "treatments"):
        store.put(P, collection, [doc(0, 100, f"{collection}-1")])
    items = boto3.client("dynamodb").scan(TableName=aws_mode.names.nightscout_table)["Items"]
    expiry = {item["doc_key"]["S"].split("#")[0]: item.get("expires_at") for item in items}
    assert expiry["entries"] == {"N": str(T0 // 1000 + 14 * 86_400)}
    assert expiry["devicestatus"] == {"N": str(T0 // 1000 + 14 * 86_400)}
    assert expiry["treatments"] is None  # reaches no other store yet: never expires


def test_profiles_and_foods_never_expire_and_are_found_by_identifier(aws_mode: Settings) -> None:
    """Settings, like treatments: no TTL (a profile set a year ago is still the current one),
    and a reference beside each, so a PUT or DELETE by _id reads two items, not the collection."""
    table = aws_mode.names.nightscout_table
    NightscoutDocuments(boto3.client("dynamodb"), table, 14).put(
        P, "profile", [doc(-400 * 24 * 60, 0, "profile-old"), doc(0, 0, "profile-1")]
    )
    NightscoutDocuments(boto3.client("dynamodb"), table, 14).put(P, "food", [doc(1, 0, "oat")])
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert all("expires_at" not in item for item in items)
    references = sorted(i["doc_key"]["S"] for i in items if i["doc_key"]["S"].startswith("~id"))
    assert [r.rsplit("#", 1)[0] for r in references] == [
        "~identifier#food#oat",
        "~identifier#profile#profile-1",
        "~identifier#profile#profile-old",
    ]
    counting = CountingClient(boto3.client("dynamodb"))
    store = NightscoutDocuments(counting, table, 14)
    (old,) = store.with_identifiers(P, "profile", ["profile-old"])
    assert old.date_ms == T0 - 400 * 86_400_000
    assert counting.items_read == 2  # its reference, its document
    assert [d.identifier for d in store.newest(P, "profile", limit=1)] == ["profile-1"]


def test_the_modification_log_answers_history_and_last_modified(store: Any) -> None:
    def version(minute: int, sgv: int, modified: int) -> Document:
        body = {"sgv": sgv, "minute": minute, "srvModified": T0 + modified}
        return Document(T0 + minute * 60_000, f"id-{minute}", body, T0 + modified)

    assert store.last_modified(P, "treatments") is None
    store.put(P, "treatments", [version(0, 100, 10), version(5, 110, 20)])
    store.put(P, "treatments", [version(0, 101, 30)])  # the first one changed later
    history = store.modified_since(P, "treatments", T0 + 10, limit=10)
    assert [(d.identifier, d.body["sgv"], d.modified_ms) for d in history] == [
        ("id-5", 110, T0 + 20),
        ("id-0", 101, T0 + 30),
    ]
    assert store.last_modified(P, "treatments") == T0 + 30
    assert store.modified_since(P, "treatments", T0 + 30, limit=10) == []
    # The log never shows in a date range, and the current version is the newest.
    assert [d.body["sgv"] for d in store.newest(P, "treatments", limit=10)] == [110, 101]
    assert store.modified_since(P, "treatments", 0, limit=1)[0].identifier == "id-0"


def test_remove_deletes_the_current_version_and_its_reference_and_keeps_its_history(
    store: Any,
) -> None:
    first = Document(T0, "bolus-1", {"insulin": 1.0}, T0 + 1)
    moved = Document(T0 + 60_000, "bolus-1", {"insulin": 1.5}, T0 + 2)
    store.put(P, "treatments", [first, doc(3, 0, "carbs-1")])
    store.put(P, "treatments", [moved])
    store.remove(P, "treatments", [first])
    kept = store.newest(P, "treatments", limit=10)
    assert [(d.identifier, d.date_ms) for d in kept] == [
        ("carbs-1", T0 + 3 * 60_000),
        ("bolus-1", T0 + 60_000),
    ]
    history = store.modified_since(P, "treatments", 0, 10)
    assert [d.body["insulin"] for d in history] == [1.0, 1.5]
    # Found by identifier where it moved to only, and not at all once removed.
    found = store.with_identifiers(P, "treatments", ["bolus-1", "carbs-1"])
    assert [(d.identifier, d.date_ms, d.body) for d in found] == [
        ("bolus-1", T0 + 60_000, {"insulin": 1.5}),
        ("carbs-1", T0 + 3 * 60_000, {"sgv": 0, "minute": 3}),
    ]
    store.remove(P, "treatments", found)
    assert store.with_identifiers(P, "treatments", ["bolus-1", "carbs-1"]) == []
    store.remove(P, "treatments", [])  # nothing to remove: no call fails


def test_with_identifiers_whatever_the_age(store: Any) -> None:
    """A document is found by its identifier beyond any page and any count of newer ones;
    an identifier that only begins another (or ends like a reference's date) is not it; one
    sent at two times is found twice, oldest first; several identifiers in one call."""
    store.put(P, "treatments", [doc(m, 0, f"t-{m}") for m in range(1200)])
    store.put(P, "treatments", [doc(5000, 0, "t-1")])  # the same identifier at another time
    store.put(P, "treatments", [doc(6000, 0, f"t-1#{T0 + 60_000:015d}")])
    store.put(P, "entries", [doc(7, 100, "t-7")])
    assert [d.date_ms for d in store.with_identifiers(P, "treatments", ["t-1"])] == [
        T0 + 60_000,
        T0 + 5000 * 60_000,
    ]
    assert [d.identifier for d in store.with_identifiers(P, "treatments", ["t-7"])] == ["t-7"]
    assert [d.identifier for d in store.with_identifiers(P, "entries", ["t-7"])] == ["t-7"]
    assert [d.identifier for d in store.with_identifiers(P, "treatments", ["t-9", "t-3"])] == [
        "t-3",
        "t-9",
    ]
    assert store.with_identifiers(P, "treatments", ["t-"]) == []
    assert store.with_identifiers(P, "treatments", []) == []
    assert store.with_identifiers("p_" + "2" * 32, "treatments", ["t-7"]) == []


def test_a_lookup_reads_the_identifiers_items_not_the_collection(aws_mode: Settings) -> None:
    """Its references, then its documents: a few items, not the collection's 1,200."""
    table = aws_mode.names.nightscout_table
    NightscoutDocuments(boto3.client("dynamodb"), table, 14).put(
        P, "treatments", [doc(m, 0, f"t-{m}") for m in range(1200)]
    )
    counting = CountingClient(boto3.client("dynamodb"))
    store = NightscoutDocuments(counting, table, 14)
    assert [d.identifier for d in store.with_identifiers(P, "treatments", ["t-5", "t-7"])] == [
        "t-5",
        "t-7",
    ]
    assert counting.items_read == 4  # two references, two documents


def test_documents_stored_before_references_are_found_and_indexed_once(
    aws_mode: Settings,
) -> None:
    """Items written without a reference (before references existed) get theirs at the
    collection's first lookup, one pass over its keys; later lookups, by any instance, read
    only references and documents. A reference whose document is gone names nothing."""
    table = aws_mode.names.nightscout_table
    client = boto3.client("dynamodb")
    legacy = NightscoutDocuments(client, table, 14)
    for minute in range(30):
        older = Document(T0 + minute, f"bolus-{minute}", {"_id": f"bolus-{minute}"})
        key = f"treatments#{T0 + minute:015d}#bolus-{minute}"
        client.put_item(TableName=table, Item=legacy._item(P, "treatments", older, key))
    first = NightscoutDocuments(CountingClient(client), table, 14)
    assert [d.identifier for d in first.with_identifiers(P, "treatments", ["bolus-3"])] == [
        "bolus-3"
    ]
    assert first.client.items_read == 30 + 2  # the keys once, then a reference and a document
    gone = {"patient_id": {"S": P}, "doc_key": {"S": f"treatments#{T0 + 4:015d}#bolus-4"}}
    client.delete_item(TableName=table, Key=gone)
    later = NightscoutDocuments(CountingClient(client), table, 14)
    found = later.with_identifiers(P, "treatments", ["bolus-29", "bolus-4"])
    assert [d.identifier for d in found] == ["bolus-29"]
    assert later.client.items_read == 3  # two references, one document still there
    assert later.with_identifiers(P, "entries", ["bolus-3"]) == []  # indexed apart


def test_entries_and_device_status_keep_no_reference_and_are_found_by_their_body(
    aws_mode: Settings,
) -> None:
    """Written every few minutes, looked up by identifier rarely, bounded by the retention:
    a lookup reads the collection (past a 1,000-item page), DynamoDB filtering on the
    identifier attribute, or on the body of an item stored before that attribute."""
    table = aws_mode.names.nightscout_table
    store = NightscoutDocuments(boto3.client("dynamodb"), table, 14)
    store.put(P, "entries", [doc(m, 100, f"e-{m}") for m in range(1200)])
    store.put(P, "devicestatus", [doc(3, 0, "status-3")])
    older = Document(T0 - 60_000, "e-old", {"_id": "e-old", "sgv": 90})  # before the attribute
    legacy = store._item(P, "entries", older, f"entries#{T0 - 60_000:015d}#e-old")
    del legacy["identifier"]
    store.client.put_item(TableName=table, Item=legacy)
    keys = [
        item["doc_key"]["S"]
        for item in store.client.scan(TableName=table, ProjectionExpression="doc_key")["Items"]
    ]
    assert not [key for key in keys if key.startswith("~")]
    found = store.with_identifiers(P, "entries", ["e-1150", "e-3", "e-1", "e-old"])
    assert [d.identifier for d in found] == ["e-old", "e-1", "e-3", "e-1150"]
    assert [d.identifier for d in store.with_identifiers(P, "devicestatus", ["status-3"])] == [
        "status-3"
    ]
    store.remove(P, "entries", found)
    assert store.with_identifiers(P, "entries", ["e-3"]) == []


class _Throttled(CountingClient):
    """Leaves the first item (key) of a batch request of two or more unprocessed, as DynamoDB
    does under throttling; the retry, of that one, goes through."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.throttled = 0

    def _split(self, request: dict[str, Any], field: str | None) -> tuple[Any, Any]:
        ((table, pending),) = request["RequestItems"].items()
        listed = pending if field is None else pending[field]
        if len(listed) < 2:
            return request, None
        self.throttled += 1
        kept = {table: listed[1:] if field is None else {**pending, field: listed[1:]}}
        left = {table: listed[:1] if field is None else {**pending, field: listed[:1]}}
        return {"RequestItems": kept}, left

    def batch_write_item(self, **request: Any) -> Any:
        sent, left = self._split(request, None)
        response = self.client.batch_write_item(**sent)
        return {**response, "UnprocessedItems": left} if left else response

    def batch_get_item(self, **request: Any) -> Any:
        sent, left = self._split(request, "Keys")
        response = super().batch_get_item(**sent)
        return {**response, "UnprocessedKeys": left} if left else response


def test_unprocessed_writes_and_reads_are_sent_again(aws_mode: Settings) -> None:
    client = _Throttled(boto3.client("dynamodb"))
    store = NightscoutDocuments(client, aws_mode.names.nightscout_table, 14)
    store.put(P, "treatments", [doc(m, 0, f"t-{m}") for m in range(3)])
    assert client.throttled == 1  # the put's six items (documents, references): one retried
    assert [d.identifier for d in store.newest(P, "treatments", limit=10)] == ["t-2", "t-1", "t-0"]
    client.throttled = 0
    found = store.with_identifiers(P, "treatments", ["t-0", "t-1", "t-2"])
    assert [d.identifier for d in found] == ["t-0", "t-1", "t-2"]
    assert client.throttled == 1  # the BatchGetItem of three: one key read again
