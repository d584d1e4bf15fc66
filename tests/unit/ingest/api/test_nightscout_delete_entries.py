"""DELETE of Nightscout entries (admin): the matching entries leave the read path, and an
erasure of each reading goes on the erasures stream first so that the lake drops it too; what
cannot be erased is not deleted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from glucosestream.domain.erasure import ReadingErasure
from glucosestream.domain.identity import reading_event_id
from glucosestream.ingest.api.auth import NightscoutSecret
from glucosestream.ingest.api.documents import Document
from glucosestream.ingest.api.nightscout_auth import Credentials, NightscoutAuth
from glucosestream.ingest.api.service import DAY_MS, IngestService
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.ingest.api.test_nightscout_older_entries import FakeArchive
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS, FakePublisher

Make = Callable[..., IngestService]
SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
MINUTE_MS = 60_000
DATES = [NOW_MS - m * 5 * MINUTE_MS for m in (1, 2, 3)]


def uploaded(service: IngestService) -> list[dict[str, object]]:
    entries = [
        {"type": "sgv", "sgv": 100 + i, "date": d, "device": "xDrip-DexcomG6"}
        for i, d in enumerate(DATES)
    ]
    assert service.post_entries(SECRET, json.dumps(entries).encode()).status == 200
    return list(service.get_entries(SECRET, 10).body)


def test_an_admin_deletes_what_a_find_matches_and_the_lake_gets_an_erasure_of_each(
    make_service: Make, erasures_stream: FakePublisher
) -> None:
    service = make_service()
    uploaded(service)
    find = {"find[date][$gte]": [str(DATES[1])]}
    answer = service.delete_entries(SECRET, find)
    assert answer.status == 200
    assert answer.body == {"n": 2, "ok": 1}
    assert [e["date"] for e in service.get_entries(SECRET, 10).body] == [DATES[2]]
    patient = erasures_stream.taken[0].patient_id
    assert erasures_stream.taken == [
        ReadingErasure(patient, "xDrip-DexcomG6", date, NOW_MS, "nightscout", NOW_MS)
        for date in DATES[:2]
    ]
    assert patient.startswith("p_")
    assert service.delete_entries(SECRET, find).body == {"n": 0, "ok": 1}  # a retry


def test_one_entry_by_id_and_the_refusals(
    make_service: Make, erasures_stream: FakePublisher
) -> None:
    service = make_service()
    newest = uploaded(service)[0]
    assert service.delete_entries(SECRET, {}, spec=str(newest["_id"])).body["n"] == 1
    assert [e["date"] for e in service.get_entries(SECRET, 10).body] == DATES[1:]
    # Without a condition Nightscout would delete the whole site: refused, nothing deleted.
    refused = service.delete_entries(SECRET, {})
    assert refused.status == 400
    assert "needs find conditions" in refused.body["message"]
    assert service.delete_entries(SECRET, {"find[sgv][$regex]": ["1"]}).status == 400
    assert service.delete_entries(None, {"find[sgv][$gte]": ["0"]}).status == 401
    service.nightscout_auth = NightscoutAuth.configure(
        NightscoutSecret.configure(NIGHTSCOUT_SECRET, "alice", "alice"), {"follower": ["readable"]}
    )
    token = Credentials(token=service.nightscout_auth.token_for("follower"))
    forbidden = service.delete_entries(token, {"find[sgv][$gte]": ["0"]})
    assert forbidden.status == 403
    assert len(erasures_stream.taken) == 1
    assert len(service.get_entries(SECRET, 10).body) == 2


def test_an_erasure_the_stream_refuses_deletes_nothing(
    make_service: Make, erasures_stream: FakePublisher
) -> None:
    service = make_service()
    uploaded(service)
    erasures_stream.fail_after = 0
    answer = service.delete_entries(SECRET, {"find[sgv][$gte]": ["0"]})
    assert answer.status == 503
    assert "nothing was deleted" in answer.body["message"]
    assert len(service.get_entries(SECRET, 10).body) == 3


def test_entries_older_than_the_window_are_erased_in_the_lake(
    make_service: Make, erasures_stream: FakePublisher
) -> None:
    old = NOW_MS - 20 * DAY_MS
    service = make_service(entry_archive=FakeArchive({old: 140, old - 5 * MINUTE_MS: 150}))
    find = {"find[date][$gte]": [str(old - DAY_MS)], "find[date][$lte]": [str(old)]}
    assert service.delete_entries(SECRET, find).body == {"n": 2, "ok": 1}
    assert [(e.device_id, e.measured_at) for e in erasures_stream.taken] == [
        ("dexcom-g6", old),
        ("dexcom-g6", old - 5 * MINUTE_MS),
    ]


def test_deleting_the_meter_value_at_a_sensor_values_date_erases_only_the_meter_reading(
    make_service: Make, erasures_stream: FakePublisher, documents: InMemoryDocuments
) -> None:
    """A sensor and a meter value at one date are two readings: a DELETE of the meter entry
    erases the meter's reading (its device in the contract) and leaves the sensor's. A meter
    entry stored before meters had their own device is erased as the device it was sent by."""
    service = make_service()
    date = DATES[0]
    batch = [
        {"type": "sgv", "sgv": 112, "date": date, "device": "xDrip-DexcomG6"},
        {"type": "mbg", "mbg": 104.5, "date": date, "device": "xDrip-DexcomG6"},
    ]
    sensor, meter = service.post_entries(SECRET, json.dumps(batch).encode()).body
    assert service.delete_entries(SECRET, {}, spec=str(meter["_id"])).body == {"n": 1, "ok": 1}
    assert [e["_id"] for e in service.get_entries(SECRET, 10).body] == [sensor["_id"]]
    patient = erasures_stream.taken[0].patient_id
    assert [(e.device_id, e.measured_at) for e in erasures_stream.taken] == [
        ("xDrip-DexcomG6 meter", date)
    ]
    assert service.delete_entries(SECRET, {}, spec=str(sensor["_id"])).body["n"] == 1
    assert erasures_stream.taken[-1].device_id == "xDrip-DexcomG6"

    earlier = reading_event_id(patient, "Contour", DATES[1])
    stored = {"_id": earlier, "type": "mbg", "sgv": 98, "date": DATES[1], "device": "Contour"}
    documents.put(patient, "entries", [Document(DATES[1], earlier, stored)])
    assert service.delete_entries(SECRET, {}, spec=earlier).body["n"] == 1
    assert erasures_stream.taken[-1].device_id == "Contour"
