"""Nightscout entries as uploaders send them: xDrip+, Loop, AndroidAPS, Dexcom bridges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import ReadingSource, ReadingStatus, Trend
from glucosestream.ingest.nightscout import (
    DIRECTION_OF,
    DIRECTIONS,
    EntryError,
    entries_of,
    reading_from_entry,
    status_document,
    validate_entries,
)
from tests.unit.ingest.support import KEY, NOW_MS

EVENTS = Path(__file__).parents[2] / "events"


def uploader_payload(name: str) -> list[dict[str, object]]:
    loaded: list[dict[str, object]] = json.loads((EVENTS / name).read_text())
    return loaded


@pytest.mark.parametrize(
    ("direction", "trend"),
    [
        ("TripleUp", Trend.DOUBLE_UP),
        ("DoubleUp", Trend.DOUBLE_UP),
        ("SingleUp", Trend.SINGLE_UP),
        ("FortyFiveUp", Trend.FORTY_FIVE_UP),
        ("Flat", Trend.FLAT),
        ("FortyFiveDown", Trend.FORTY_FIVE_DOWN),
        ("SingleDown", Trend.SINGLE_DOWN),
        ("DoubleDown", Trend.DOUBLE_DOWN),
        ("TripleDown", Trend.DOUBLE_DOWN),
        ("NOT COMPUTABLE", Trend.NOT_COMPUTABLE),
        ("RATE OUT OF RANGE", Trend.NOT_COMPUTABLE),
        ("NONE", Trend.NOT_COMPUTABLE),
        (None, Trend.NOT_COMPUTABLE),
    ],
)
def test_direction_maps_to_the_trend_enum(direction: str | None, trend: Trend) -> None:
    entry = {"type": "sgv", "sgv": 120, "date": NOW_MS - 60_000, "direction": direction}
    reading = reading_from_entry(entry, "alice", KEY, NOW_MS)
    assert reading is not None
    assert reading.trend is trend


def test_every_trend_has_a_direction_that_maps_back() -> None:
    assert {DIRECTIONS[DIRECTION_OF[trend]] for trend in Trend} == set(Trend)


def test_numeric_dexcom_trend_is_used_without_a_direction() -> None:
    reading = reading_from_entry({"sgv": 90, "date": NOW_MS, "trend": 6}, "alice", KEY, NOW_MS)
    assert reading is not None
    assert reading.trend is Trend.SINGLE_DOWN


def test_dexcom_trend_0_is_no_arrow_and_numbers_past_9_are_refused() -> None:
    """Dexcom Share's and Nightscout's trend 0 is NONE: the reading is kept, without an arrow."""
    reading = reading_from_entry({"sgv": 90, "date": NOW_MS, "trend": 0}, "alice", KEY, NOW_MS)
    assert reading is not None
    assert reading.trend is Trend.NOT_COMPUTABLE
    with pytest.raises(EntryError, match="trend 10 is not a Dexcom trend number 0-9"):
        reading_from_entry({"sgv": 90, "date": NOW_MS, "trend": 10}, "alice", KEY, NOW_MS)


def test_xdrip_batch_as_uploaded() -> None:
    (validated, skipped) = validate_entries(
        uploader_payload("nightscout_xdrip_entries.json"), "alice", KEY, NOW_MS
    )
    assert validated.rejected == []
    assert skipped == []
    first = validated.accepted[0].reading
    assert first.patient_id == pseudonymise("alice", KEY)
    assert first.device_id == "xDrip-DexcomG6"
    assert first.utc_offset_minutes == 60  # from utcOffset
    assert first.source is ReadingSource.CGM


def test_loop_batch_as_uploaded_takes_the_offset_from_date_string() -> None:
    validated, _ = validate_entries(
        uploader_payload("nightscout_loop_entries.json"), "alice", KEY, NOW_MS
    )
    assert validated.rejected == []
    readings = [a.reading for a in validated.accepted]
    assert {r.utc_offset_minutes for r in readings} == {-300}
    assert readings[0].device_id == "loop://iPhone"


def test_date_in_seconds_is_rejected_with_a_clear_reason() -> None:
    with pytest.raises(EntryError, match=r"looks like seconds since the epoch; send milliseconds"):
        reading_from_entry({"sgv": 120, "date": NOW_MS // 1000}, "alice", KEY, NOW_MS)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"sgv": 5, "date": NOW_MS}, "Dexcom error code"),
        ({"sgv": -50, "date": NOW_MS}, "sgv -50 is negative: not a glucose value"),
        ({"sgv": "120", "date": NOW_MS}, "sgv must be a number"),
        ({"date": NOW_MS}, "has no sgv value"),
        ({"sgv": 120}, "no date"),
        ({"sgv": 120, "date": NOW_MS, "direction": "Sideways"}, "direction 'Sideways' is not"),
        ({"type": "treatment", "sgv": 120, "date": NOW_MS}, "is not sgv, mbg or cal"),
        ({"sgv": 120, "date": NOW_MS + 86_400_000}, "in the future"),
    ],
)
def test_refused_entries_say_why(entry: dict[str, object], reason: str) -> None:
    validated, _ = validate_entries([entry], "alice", KEY, NOW_MS)
    assert validated.accepted == []
    assert reason in validated.rejected[0].reason


def test_mbg_is_a_meter_reading_and_cal_is_skipped() -> None:
    validated, skipped = validate_entries(
        [
            {"type": "mbg", "mbg": 131, "date": NOW_MS},
            {"type": "cal", "date": NOW_MS, "slope": 900},
        ],
        "alice",
        KEY,
        NOW_MS,
    )
    assert validated.accepted[0].reading.source is ReadingSource.BGM
    assert [s.index for s in skipped] == [1]


def test_sgv_39_is_the_sensor_low() -> None:
    reading = reading_from_entry({"sgv": 39, "date": NOW_MS}, "alice", KEY, NOW_MS)
    assert reading is not None
    assert reading.status is ReadingStatus.BELOW_SENSOR_RANGE


def test_entries_out_are_newest_first_with_deltas() -> None:
    readings = [
        reading_from_entry(
            {"sgv": v, "date": NOW_MS - i * 300_000, "direction": "Flat"}, "alice", KEY, NOW_MS
        )
        for i, v in enumerate([120, 115, 111])
    ]
    out = entries_of([r for r in readings if r is not None], 2)
    assert [(e["sgv"], e["delta"]) for e in out] == [(120, 5), (115, 4)]
    assert out[0]["date"] == NOW_MS
    assert out[0]["dateString"].endswith("Z")
    assert out[0]["direction"] == "Flat"
    assert out[0]["type"] == "sgv"


def test_a_meter_reading_is_an_mbg_entry_with_its_value_in_mbg() -> None:
    """The lake's meter readings read back as the store's do: mbg, no sgv, no direction."""
    meter = reading_from_entry(
        {"type": "mbg", "mbg": 131, "date": NOW_MS, "device": "Contour"}, "alice", KEY, NOW_MS
    )
    assert meter is not None
    assert meter.device_id == "Contour meter"  # the meter's reading, not the CGM's
    (entry,) = entries_of([meter], 1)
    assert (entry["type"], entry["mbg"], entry["device"]) == ("mbg", 131, "Contour")
    assert {"sgv", "direction"}.isdisjoint(entry)


def test_status_document_passes_uploader_checks() -> None:
    status = status_document(NOW_MS)
    assert status["status"] == "ok"
    assert status["apiEnabled"] is True
    assert int(status["version"].split(".")[0]) >= 14


def test_reasons_quote_client_values_briefly() -> None:
    validated, _ = validate_entries(
        [{"sgv": 120, "date": NOW_MS, "direction": "→" * 100_000}], "alice", KEY, NOW_MS
    )
    reason = validated.rejected[0].reason
    assert reason.startswith("direction '→→")
    assert len(reason) < 300


def test_naive_date_string_is_read_in_the_entry_utc_offset_never_guessed() -> None:
    from glucosestream.ingest.nightscout import EntryError, reading_from_entry

    entry = {"type": "sgv", "sgv": 120, "dateString": "2015-11-01T01:30:00", "utcOffset": -300}
    reading = reading_from_entry(entry, "alex", KEY, NOW_MS)
    assert reading is not None
    assert reading.measured_at == 1_446_359_400_000  # 06:30 UTC: the EST occurrence of 01:30
    assert reading.utc_offset_minutes == -300
    without_offset = {"type": "sgv", "sgv": 120, "dateString": "2015-11-01T01:30:00"}
    with pytest.raises(EntryError, match="no dateString with a UTC offset"):
        reading_from_entry(without_offset, "alex", KEY, NOW_MS)
    with pytest.raises(EntryError, match="not within"):
        reading_from_entry({**entry, "utcOffset": 100_000}, "alex", KEY, NOW_MS)
