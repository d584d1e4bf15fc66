"""Nightscout entries as xDrip+ uploads them and followers poll them: deltas, find, current."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from glucosestream.domain.reading import ReadingSource, Trend
from glucosestream.ingest.api.config import load_ingest_settings
from glucosestream.ingest.api.documents import Document
from glucosestream.ingest.api.nightscout_auth import Credentials
from glucosestream.ingest.api.nightscout_v3 import NightscoutV3
from glucosestream.ingest.api.service import DAY_MS, IngestService, Limits
from glucosestream.ingest.nightscout import reading_entry
from tests.support.nightscout_documents import InMemoryDocuments
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS, FakePublisher, site_patient

Make = Callable[..., IngestService]
SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
FALLING = [112, 104, 95]


def upload(service: IngestService, values: list[int], first_minutes_ago: int = 15) -> list[dict]:
    entries = [
        {
            "type": "sgv",
            "sgv": value,
            "date": NOW_MS - (first_minutes_ago - 5 * i) * 60_000,
            "direction": "FortyFiveDown",
            "device": "xDrip-DexcomG6",
        }
        for i, value in enumerate(values)
    ]
    answer = service.post_entries(SECRET, json.dumps(entries).encode())
    assert answer.status == 200
    return answer.body


def test_posted_deltas_are_against_the_previous_reading_as_get_answers_them(
    make_service: Make,
) -> None:
    service = make_service()
    posted = upload(service, FALLING)
    assert [e["sgv"] for e in posted] == FALLING  # in the order sent
    assert [e["delta"] for e in posted] == [0, -8, -9]
    got = service.get_entries(SECRET, 3).body
    assert [(e["sgv"], e["delta"]) for e in got] == [(95, -9), (104, -8), (112, 0)]
    # The next upload's delta is against the stored reading before it.
    (next_one,) = upload(service, [90], first_minutes_ago=0)
    assert next_one["delta"] == -5


def test_a_follower_polling_with_date_gt_gets_only_what_is_new(make_service: Make) -> None:
    service = make_service()
    upload(service, FALLING)
    newest = service.get_entries(SECRET, 1).body[0]["date"]
    assert service.get_entries(SECRET, 10, {"find[date][$gt]": [str(newest)]}).body == []
    upload(service, [90], first_minutes_ago=0)
    new = service.get_entries(SECRET, 10, {"find[date][$gt]": [str(newest)]}).body
    assert [e["sgv"] for e in new] == [90]
    since = service.get_entries(SECRET, 10, {"find[date][$gte]": [str(newest)]}).body
    assert [e["sgv"] for e in since] == [90, 95]


def test_find_on_sgv_and_count_apply_together_newest_first(make_service: Make) -> None:
    service = make_service()
    upload(service, [150, 120, 100, 80, 60], first_minutes_ago=25)
    got = service.get_entries(SECRET, 2, {"find[sgv][$lt]": ["110"]}).body
    assert [e["sgv"] for e in got] == [60, 80]


def test_a_find_nightscout_does_not_know_is_400(make_service: Make) -> None:
    answer = make_service().get_entries(SECRET, 10, {"find[sgv][$like]": ["1"]})
    assert answer.status == 400
    assert answer.body["message"] == (
        "find: find[sgv][$like]: unknown operator $like; "
        "use $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin"
    )


def test_the_sgv_paths_fixed_type_filters_meter_entries(make_service: Make) -> None:
    service = make_service()
    upload(service, FALLING)
    meter = {"type": "mbg", "mbg": 98, "date": NOW_MS - 60_000, "device": "meter"}
    assert service.post_entries(SECRET, json.dumps([meter]).encode()).status == 200
    every = service.get_entries(SECRET, 10).body
    assert [e["type"] for e in every][:1] == ["mbg"]
    sgv_only = service.get_entries(SECRET, 10, entry_type="sgv").body
    assert {e["type"] for e in sgv_only} == {"sgv"}
    assert len(sgv_only) == len(every) - 1


def test_status_carries_the_fields_clients_read(make_service: Make) -> None:
    status = make_service().status().body
    assert status["status"] == "ok"
    assert status["apiEnabled"] is True
    assert status["careportalEnabled"] is True
    settings = status["settings"]
    assert settings["units"] == "mg/dl"
    assert {"careportal", "devicestatus"} <= set(settings["enable"])
    assert settings["thresholds"] == {
        "bgHigh": 250,
        "bgTargetTop": 180,
        "bgTargetBottom": 70,
        "bgLow": 54,
    }
    assert status["serverTimeEpoch"] == NOW_MS


def test_an_xdrip_batch_of_sgv_meter_and_calibration_entries(make_service: Make) -> None:
    """One POST as xDrip+'s doRESTUploadTo builds it (populateV1APIBGEntry, ...MeterReadingEntry,
    ...CalibrationEntry): dateString and sysTime with a +0100 offset, a meter value converted
    from mmol/L as a double, a calibration entry without glucose."""
    service = make_service()
    t = NOW_MS - 300_000
    local = "2026-01-05T08:55:00.000+0100"
    batch = [
        {
            "device": "xDrip-DexcomG6",
            "date": t,
            "dateString": local,
            "sgv": 112,
            "delta": -1.234,
            "direction": "Flat",
            "type": "sgv",
            "filtered": 112000.0,
            "unfiltered": 112300.0,
            "rssi": 100,
            "noise": 1,
            "sysTime": local,
        },
        {
            "device": "Contour",
            "type": "mbg",
            "date": t + 1000,
            "dateString": local,
            "mbg": 104.5,
            "sysTime": local,
        },
        {
            "device": "xDrip-DexcomG6",
            "type": "cal",
            "date": t + 2000,
            "slope": 850.0,
            "intercept": 31000.0,
            "scale": 1,
            "dateString": local,
            "sysTime": local,
        },
    ]
    answer = service.post_entries(SECRET, json.dumps(batch).encode())
    assert answer.status == 200
    assert "X-Rejected" not in answer.headers
    assert [(e["type"], e.get("sgv"), e.get("mbg"), e["utcOffset"]) for e in answer.body] == [
        ("sgv", 112, None, 60),
        ("mbg", None, 105, 60),  # 104.5 mg/dL (5.8 mmol/L) rounded half up
    ]


def test_a_glucose_that_is_not_a_finite_number_is_refused_with_its_reason(
    make_service: Make,
) -> None:
    service = make_service()
    body = b'[{"type": "sgv", "sgv": NaN, "date": %d}, {"type": "mbg", "mbg": "high", "date": %d}]'
    answer = service.post_entries(SECRET, body % (NOW_MS - 60_000, NOW_MS - 30_000))
    assert answer.status == 400
    reasons = [r["reason"] for r in answer.body["rejected"]]
    assert reasons == ["sgv must be a finite number", "mbg must be a number, got str"]


def test_androidaps_triple_arrows_are_kept_as_the_contracts_double_arrows(
    make_service: Make, stream: FakePublisher
) -> None:
    """AndroidAPS (and Nightscout's direction plugin) send TripleUp/TripleDown for the fastest
    changes; the reading is kept, its trend the contract's nearest (DOUBLE_UP/DOUBLE_DOWN), and
    it is answered as DoubleUp/DoubleDown, as the lake answers it once it is older."""
    service = make_service()
    rising = {
        "type": "sgv",
        "sgv": 250,
        "date": NOW_MS - 300_000,
        "direction": "TripleUp",
        "device": "AndroidAPS-Medtrum",
    }
    falling = {**rising, "sgv": 62, "date": NOW_MS - 60_000, "direction": "TripleDown"}
    answer = service.post_entries(SECRET, json.dumps(rising).encode())
    assert answer.status == 200
    assert service.post_entries(SECRET, json.dumps([falling]).encode()).status == 200
    assert [r.trend for r in stream.taken] == [Trend.DOUBLE_UP, Trend.DOUBLE_DOWN]
    got = service.get_entries(SECRET, 10).body
    assert [(e["sgv"], e["direction"]) for e in got] == [(62, "DoubleDown"), (250, "DoubleUp")]
    garbage = service.post_entries(SECRET, json.dumps({**rising, "direction": "QuadUp"}).encode())
    assert garbage.status == 400
    assert garbage.body["rejected"][0]["reason"].startswith("direction 'QuadUp' is not one of")


def test_a_meter_reading_is_answered_with_mbg_not_sgv_and_sensor_deltas_skip_it(
    make_service: Make,
) -> None:
    """xDrip+ uploads a fingerstick as an mbg entry; Nightscout's reports and followers tell it
    from a sensor value by its mbg field, so it is answered with mbg (no sgv, no direction)."""
    service = make_service()
    upload(service, [112, 104], first_minutes_ago=10)
    meter = {"type": "mbg", "mbg": 104.5, "date": NOW_MS - 2 * 60_000, "device": "xDrip-Meter"}
    posted = service.post_entries(SECRET, json.dumps([meter]).encode())
    assert posted.status == 200
    upload(service, [95], first_minutes_ago=0)
    (answered_meter,) = posted.body
    got = service.get_entries(SECRET, 10).body
    assert got[1] == answered_meter | {"delta": 0}
    assert [(e["type"], e.get("sgv"), e.get("mbg"), e["delta"]) for e in got] == [
        ("sgv", 95, None, -9),  # against the sensor value before the meter's
        ("mbg", None, 105, 0),
        ("sgv", 104, None, -8),
        ("sgv", 112, None, 0),
    ]
    assert {"sgv", "direction"}.isdisjoint(answered_meter)
    found = service.get_entries(SECRET, 10, {"find[sgv][$gte]": ["100"]}).body
    assert [e["type"] for e in found] == ["sgv", "sgv"]


def test_a_meter_entry_stored_with_sgv_reads_as_an_mbg_entry(
    make_service: Make, documents: InMemoryDocuments
) -> None:
    """Meter entries stored before mbg was kept have their value under sgv; v1 and v3 answer
    them as the mbg entries stored now."""
    service = make_service()
    date = NOW_MS - 60_000
    stored = {
        "_id": "0f" * 16,
        "type": "mbg",
        "sgv": 105,
        "date": date,
        "dateString": "2026-01-05T07:59:00.000Z",
        "sysTime": "2026-01-05T07:59:00.000Z",
        "direction": "NOT COMPUTABLE",
        "device": "xDrip-Meter",
        "utcOffset": 60,
        "identifier": "0f" * 16,
        "srvModified": date,
    }
    documents.put(site_patient(service), "entries", [Document(date, "0f" * 16, stored, date)])
    (got,) = service.get_entries(SECRET, 10).body
    assert (got["type"], got["mbg"], got["delta"]) == ("mbg", 105, 0)
    assert {"sgv", "direction"}.isdisjoint(got)
    (by_id,) = service.get_entry(SECRET, "0f" * 16, 10).body
    assert by_id == got
    v3 = NightscoutV3(service)
    credentials = Credentials(api_secret=SECRET)
    (searched,) = v3.search(credentials, "entries", {"type": ["mbg"]}).body["result"]
    assert (searched["mbg"], "sgv" in searched) == (105, False)
    assert v3.read(credentials, "entries", "0f" * 16).body["result"] == searched
    (logged,) = v3.history(credentials, "entries", "0", None).body["result"]
    assert logged == searched


def test_a_sensor_and_a_meter_value_at_one_date_from_one_device_are_both_kept(
    make_service: Make, stream: FakePublisher
) -> None:
    """AndroidAPS uploads a fingerstick with the CGM's device and the sensor value's date;
    Nightscout keeps both (it deduplicates on date and type). The meter reading is the device's
    meter in the contract, so the two have different identities in the lake as in the API,
    and a resend of the batch is still stored once."""
    service = make_service()
    date = NOW_MS - 300_000
    batch = [
        {"type": "sgv", "sgv": 250, "date": date, "direction": "SingleUp", "device": "AAPS-G6"},
        {"type": "mbg", "mbg": 241.2, "date": date, "device": "AAPS-G6"},
    ]
    posted = service.post_entries(SECRET, json.dumps(batch).encode())
    assert posted.status == 200
    assert [(e["type"], e.get("sgv") or e["mbg"], e["device"]) for e in posted.body] == [
        ("sgv", 250, "AAPS-G6"),
        ("mbg", 241, "AAPS-G6"),  # answered with the device the uploader sent
    ]
    sensor, meter = stream.taken
    assert (sensor.device_id, meter.device_id) == ("AAPS-G6", "AAPS-G6 meter")
    assert sensor.identity != meter.identity
    assert [e["_id"] for e in posted.body] == [sensor.event_id, meter.event_id]
    resent = service.post_entries(SECRET, json.dumps(batch).encode())
    assert resent.body == posted.body
    got = service.get_entries(SECRET, 10).body
    assert sorted((e["type"], e["_id"]) for e in got) == sorted(
        [("sgv", sensor.event_id), ("mbg", meter.event_id)]
    )


def test_nightscouts_report_page_reads_entries_with_count_10000(
    make_service: Make, documents: InMemoryDocuments
) -> None:
    """Nightscout's report page (lib/report/reportclient.js) reads each day with
    find[date][$gte]/[$lt] and count=10000, entries and device status alike; a count past
    the limit is refused with it. A range with more than 5,000 entries (4+ days of a 1-minute
    sensor) is read in full up to the count."""
    service = make_service(limits=Limits(max_body_bytes=64 * 1024, max_items=300))
    newest = NOW_MS - 60_000
    dates = [newest - k * 60_000 for k in range(6_000)]
    stored = [
        reading_entry(f"{d:032x}", ReadingSource.CGM, 120, d, Trend.FLAT, "xDrip-Libre2", 60)
        for d in dates
    ]
    documents.put(
        site_patient(service), "entries", [Document(e["date"], e["_id"], e) for e in stored]
    )

    def report(start: int, end: int) -> dict[str, list[str]]:
        return {"find[date][$gte]": [str(start)], "find[date][$lt]": [str(end)]}

    day = service.get_entries(SECRET, 10_000, report(NOW_MS - DAY_MS, NOW_MS))
    assert day.status == 200
    assert len(day.body) == 1_440
    wide = service.get_entries(SECRET, 10_000, report(dates[-1], NOW_MS)).body
    assert [e["date"] for e in wide] == dates
    a_day = {
        "find[created_at][$gte]": ["2026-01-04T08:00:00.000Z"],
        "find[created_at][$lt]": ["2026-01-05T08:00:00.000Z"],
    }
    assert service.get_documents(SECRET, "devicestatus", 10_000, a_day).status == 200
    refused = service.get_entries(SECRET, 10_001, report(NOW_MS - DAY_MS, NOW_MS))
    assert (refused.status, refused.body["message"]) == (400, "count must be within 1-10000")


def test_the_configured_count_limit_defaults_to_and_stops_at_10000() -> None:
    """A larger count would not fit a Lambda's 6 MB answer: the setting cannot exceed it."""
    assert load_ingest_settings().recent_per_patient == 10_000
    with pytest.raises(ValidationError, match="less than or equal to 10000"):
        load_ingest_settings(recent_per_patient=10_001)


def test_one_reading_sent_by_xdrip_androidaps_and_a_bridge_is_one_entry_and_one_reading(
    make_service: Make, stream: FakePublisher
) -> None:
    """xDrip+ and AndroidAPS both upload the Dexcom reading they received, each naming itself
    as ``device``, and a bridge names none: Nightscout keeps one entry of a ``date`` and
    ``type``. The first upload is the reading (stored, on the stream once); the others are
    answered as that entry and neither stored nor put on the stream again, so the lake,
    curated readings and metrics count it once."""
    service = make_service()
    date = NOW_MS - 5 * 60_000
    xdrip = {"type": "sgv", "sgv": 131, "date": date, "direction": "Flat"}
    (first,) = service.post_entries(
        SECRET, json.dumps([{**xdrip, "device": "xDrip-DexcomG6"}]).encode()
    ).body
    for device in ({"device": "AndroidAPS-DexcomG6"}, {}):
        answer = service.post_entries(SECRET, json.dumps({**xdrip, **device}).encode())
        assert answer.status == 200
        assert [(e["_id"], e["device"]) for e in answer.body] == [(first["_id"], "xDrip-DexcomG6")]
    assert [(r.device_id, r.glucose_mg_dl) for r in stream.taken] == [("xDrip-DexcomG6", 131)]
    assert [e["_id"] for e in service.get_entries(SECRET, 10).body] == [first["_id"]]
    # The same uploader's resend is still its own reading's resend, as before.
    resent = service.post_entries(
        SECRET, json.dumps({**xdrip, "device": "xDrip-DexcomG6"}).encode()
    )
    assert resent.body[0]["_id"] == first["_id"]


def test_a_backfill_overlapping_another_uploaders_keeps_the_first_of_each_date(
    make_service: Make, stream: FakePublisher
) -> None:
    """AndroidAPS backfills a day (288 readings) of which xDrip+ uploaded the last 12; one
    batch also holds one date twice, from two devices. Only the 276 new readings reach the
    stream, the batch's first of its doubled date kept; every item is answered."""
    service = make_service(limits=Limits(max_body_bytes=256 * 1024, max_items=300))
    dates = [NOW_MS - (288 - i) * 300_000 for i in range(288)]
    xdrip = [
        {"type": "sgv", "sgv": 120, "date": d, "direction": "Flat", "device": "xDrip-DexcomG6"}
        for d in dates[-12:]
    ]
    assert service.post_entries(SECRET, json.dumps(xdrip).encode()).status == 200
    backfill = [
        {"type": "sgv", "sgv": 118, "date": d, "direction": "Flat", "device": "AndroidAPS-G6"}
        for d in dates
    ]
    doubled = {**backfill[0], "device": "Dexcom-Share", "sgv": 117}
    answer = service.post_entries(SECRET, json.dumps([*backfill, doubled]).encode())
    assert answer.status == 200
    assert len(answer.body) == 289
    assert answer.body[-1]["_id"] == answer.body[0]["_id"]  # the doubled date: the first's entry
    assert [e["device"] for e in answer.body[-13:-1]] == ["xDrip-DexcomG6"] * 12
    published = stream.taken[12:]
    assert len(published) == 276
    assert {r.device_id for r in published} == {"AndroidAPS-G6"}
    assert len(service.get_entries(SECRET, 100, {"find[date][$gte]": [str(dates[0])]}).body) == 100
    assert len({e["date"] for e in service.get_entries(SECRET, 100).body}) == 100


def test_date_runs_read_a_backfill_with_one_query_and_scattered_dates_apart() -> None:
    from glucosestream.ingest.nightscout import date_runs

    backfill = [NOW_MS - k * 300_000 for k in range(288)]
    assert date_runs(backfill, 15 * 60_000) == [(min(backfill), NOW_MS)]
    scattered = [NOW_MS - k * DAY_MS for k in (3, 0, 7)]
    assert date_runs(scattered, 15 * 60_000) == [(d, d) for d in sorted(scattered)]
