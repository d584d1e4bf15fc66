"""``POST /v1/readings`` items: per-item validation, units, pseudonymisation, tenants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.identity import pseudonymise, reading_event_id
from glucosestream.domain.reading import ReadingSource, ReadingStatus, Trend
from glucosestream.ingest.api.auth import ApiKeys
from glucosestream.ingest.api.readings import (
    MAX_FUTURE_MS,
    SourceName,
    StatusName,
    TrendName,
    validate_items,
)
from glucosestream.ingest.units import UnitError, parse_unit, to_mg_dl
from tests.unit.ingest.support import CLINIC_KEY, KEY, KEY_DOCUMENT, NOW_MS, reading_item

ROOT = Path(__file__).resolve().parents[4]

CLINIC = ApiKeys.from_document(KEY_DOCUMENT).authenticate(CLINIC_KEY)
assert CLINIC is not None


def validate(*items: object) -> tuple[list[object], list[tuple[int, str]]]:
    assert CLINIC is not None
    result = validate_items(list(items), CLINIC, KEY, NOW_MS)
    return [a.reading for a in result.accepted], [(r.index, r.reason) for r in result.rejected]


def test_the_api_literals_are_the_contract_enums() -> None:
    assert set(get_args(StatusName)) == {s.value for s in ReadingStatus}
    assert set(get_args(TrendName)) == {t.value for t in Trend}
    assert set(get_args(SourceName)) == {s.value for s in ReadingSource}


def test_a_valid_item_becomes_a_pseudonymous_contract_reading() -> None:
    (reading,), rejected = validate(reading_item())
    assert rejected == []
    assert reading.patient_id == pseudonymise("clinic-7/patient-0001", KEY)
    assert reading.event_id == reading_event_id(
        reading.patient_id, "dexcom-g7-9QX7LM", NOW_MS - 300_000
    )
    assert (reading.glucose_mg_dl, reading.status, reading.trend) == (
        112,
        ReadingStatus.OK,
        Trend.FLAT,
    )
    assert reading.produced_at == NOW_MS


def test_mmol_is_converted_and_iso_times_give_their_offset() -> None:
    (reading,), _ = validate(
        reading_item(
            glucose=3.1,
            unit="mmol/L",
            measured_at="2026-01-05T08:30:00+01:00",
            utc_offset_minutes=None,
        )
    )
    assert reading.glucose_mg_dl == round(3.1 * 18.016)  # 56
    assert reading.measured_at == 1_767_598_200_000
    assert reading.utc_offset_minutes == 60


def test_sensor_range_sets_the_status_unless_given() -> None:
    (low, high), rejected = validate(
        reading_item(glucose=39), reading_item(glucose=401, measured_at=NOW_MS - 600_000)
    )
    assert rejected == []
    assert low.status is ReadingStatus.BELOW_SENSOR_RANGE
    assert high.status is ReadingStatus.ABOVE_SENSOR_RANGE


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"unit": "mg"}, "unit: Input should be 'mg/dL' or 'mmol/L'"),
        ({"glucose": "112"}, "glucose: Input should be a valid number"),
        ({"glucose": 0}, "glucose: Input should be greater than 0"),
        ({"glucose": 120, "unit": "mmol/L"}, "is implausible (> 40): is it mg/dL?"),
        ({"measured_at": 1_767_599_700}, "looks like seconds since the epoch"),
        ({"measured_at": "2026-01-05 08:30", "utc_offset_minutes": None}, "has no UTC offset"),
        ({"measured_at": "yesterday"}, "is not ISO 8601"),
        ({"measured_at": NOW_MS + 3_600_000}, "60 minutes in the future"),
        ({"measured_at": NOW_MS + 6 * 60_000}, "6 minutes in the future"),
        ({"trend": "UP"}, "trend: Input should be"),
        ({"status": "OK", "glucose": 30}, "outside the sensor range"),
        ({"event_id": "x"}, "event_id: Extra inputs are not permitted"),
        ({"patient_id": "clinic-8/patient-0001"}, "tenant clinic-7 may not write"),
        ({"device_id": ""}, "device_id: String should have at least 1 character"),
        ({"glucose": float("nan")}, "glucose: Input should be a finite number"),
        ({"glucose": float("inf")}, "glucose: Input should be a finite number"),
        (
            {"measured_at": "2026-01-05T08:55:00+01:00", "utc_offset_minutes": -300},
            "utc_offset_minutes -300 contradicts the +01:00 offset of measured_at",
        ),
        (
            {"measured_at": "2026-01-05T02:25:00-05:30", "utc_offset_minutes": 330},
            "utc_offset_minutes 330 contradicts the -05:30 offset of measured_at",
        ),
        ({"patient_id": "clinic-7/"}, "patient_id 'clinic-7/' is the tenant prefix with no id"),
    ],
)
def test_each_bad_item_is_rejected_with_its_index_and_reason(
    override: dict[str, object], reason: str
) -> None:
    accepted, rejected = validate(reading_item(), reading_item(**override))
    assert len(accepted) == 1
    assert len(rejected) == 1
    assert rejected[0][0] == 1
    assert reason in rejected[0][1]


def test_non_objects_are_rejected_by_index() -> None:
    _, rejected = validate(1, "x", None, [])
    assert [index for index, _ in rejected] == [0, 1, 2, 3]
    assert "not an object" in rejected[0][1]


def test_units() -> None:
    assert parse_unit("mmol/l") == "mmol/L"
    assert parse_unit("MG/DL") == "mg/dL"
    with pytest.raises(UnitError):
        parse_unit("g/L")
    assert to_mg_dl(5.5, "mmol/L") == 99
    with pytest.raises(UnitError, match="not a positive"):
        to_mg_dl(float("nan"), "mg/dL")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
near_valid_items = st.fixed_dictionaries(
    {},
    optional={
        "patient_id": st.sampled_from(["clinic-7/patient-0001", "clinic-8/x", ""]),
        "device_id": st.text(max_size=5),
        "measured_at": st.integers(-(10**15), 10**15) | st.text(max_size=30),
        "utc_offset_minutes": st.integers(-2000, 2000),
        "glucose": st.floats(allow_nan=True) | st.integers(-5, 20_000),
        "unit": st.sampled_from(["mg/dL", "mmol/L", "mg"]),
        "trend": st.sampled_from(["FLAT", "UP"]),
        "status": st.sampled_from(["OK", "BELOW_SENSOR_RANGE", "ABOVE_SENSOR_RANGE"]),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values | near_valid_items, max_size=8))
def test_every_item_is_either_accepted_or_rejected_with_a_reason(items: list[object]) -> None:
    assert CLINIC is not None
    result = validate_items(items, CLINIC, KEY, NOW_MS)
    indexes = [a.index for a in result.accepted] + [r.index for r in result.rejected]
    assert sorted(indexes) == list(range(len(items)))
    assert all(r.reason for r in result.rejected)


def test_local_time_without_offset_needs_utc_offset_minutes() -> None:
    from glucosestream.ingest.api.readings import ReadingIn, reading_from_item
    from glucosestream.ingest.units import UnitError

    assert CLINIC is not None
    principal = CLINIC
    item = {"patient_id": "clinic-7/alice", "device_id": "g7", "measured_at": "2015-11-01T01:30:00",
            "glucose": 120, "unit": "mg/dL"}  # fmt: skip
    with pytest.raises(UnitError, match="send utc_offset_minutes"):
        reading_from_item(ReadingIn.model_validate(item), principal, KEY, NOW_MS)
    est = ReadingIn.model_validate({**item, "utc_offset_minutes": -300})
    reading = reading_from_item(est, principal, KEY, NOW_MS)
    assert (reading.measured_at, reading.utc_offset_minutes) == (1_446_359_400_000, -300)


def test_the_api_allows_the_clock_skew_the_data_quality_gate_allows() -> None:
    # A reading the API accepts further ahead would fail timestamps_out_of_bounds, and with it
    # every patient's marts on every run.
    checks = json.loads((ROOT / "sql" / "dq" / "checks.json").read_text())
    tolerance_minutes = checks["thresholds"]["future_tolerance_minutes"]["value"]
    assert tolerance_minutes * 60_000 == MAX_FUTURE_MS


@pytest.mark.parametrize(
    ("measured_at", "utc_offset_minutes", "local_offset"),
    [
        ("2026-01-05T08:55:00+01:00", 60, 60),  # the same offset twice
        ("2026-01-05T08:55:00+01:00", None, 60),  # the text's offset
        ("2026-01-05T07:55:00Z", 60, 60),  # a UTC instant (toISOString) and the device's offset
        ("2026-01-05T07:55:00+00:00", -300, -300),  # a UTC instant (Python's isoformat)
    ],
)
def test_an_offset_in_measured_at_and_utc_offset_minutes_that_agree_are_accepted(
    measured_at: str, utc_offset_minutes: int | None, local_offset: int
) -> None:
    (reading,), rejected = validate(
        reading_item(measured_at=measured_at, utc_offset_minutes=utc_offset_minutes)
    )
    assert rejected == []
    assert reading.measured_at == NOW_MS - 300_000
    assert reading.utc_offset_minutes == local_offset


def test_a_later_item_with_an_earlier_ones_identity_and_another_glucose_is_refused() -> None:
    first = reading_item(glucose=100)
    accepted, rejected = validate(first, reading_item(glucose=200), reading_item(glucose=100))
    # The exact repeat (index 2) is a resend of item 0 and accepted with the same event id.
    assert [r.glucose_mg_dl for r in accepted] == [100, 100]
    assert accepted[0] == accepted[1]
    assert rejected == [
        (1, "conflicts with item 0: same patient, device and measured_at, other glucose")
    ]


def test_a_conflict_names_every_field_that_differs_and_units_are_compared_in_mg_dl() -> None:
    accepted, rejected = validate(
        reading_item(glucose=99, unit="mg/dL"),
        reading_item(glucose=5.5, unit="mmol/L"),  # 99 mg/dL: the same reading
        reading_item(glucose=99, trend="SINGLE_UP", session_id="9QX7LM-2026-01-04"),
    )
    assert len(accepted) == 2
    assert rejected == [
        (2, "conflicts with item 0: same patient, device and measured_at, other trend, session_id")
    ]


def test_a_conflict_is_with_the_first_accepted_item_not_a_refused_one() -> None:
    accepted, rejected = validate(
        reading_item(glucose=100, unit="g/L"), reading_item(glucose=100), reading_item(glucose=140)
    )
    assert [r.glucose_mg_dl for r in accepted] == [100]
    assert rejected[1] == (
        2,
        "conflicts with item 1: same patient, device and measured_at, other glucose",
    )


@pytest.mark.parametrize(("sent", "glucose"), [("mg/dl", 112), ("MG/DL", 112), ("mmol/l", 112)])
def test_the_unit_is_read_in_any_case_as_the_cli_reads_it(sent: str, glucose: int) -> None:
    value = 6.2 if sent == "mmol/l" else 112
    (reading,), rejected = validate(reading_item(unit=sent, glucose=value))
    assert rejected == []
    assert reading.glucose_mg_dl == glucose
