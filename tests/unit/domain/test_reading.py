from __future__ import annotations

import pytest

from glucosestream.domain.reading import (
    GlucoseReading,
    InvalidReading,
    ReadingStatus,
    mmol_l_to_mg_dl,
    sensor_status,
)
from tests.factories import reading


def test_event_id_is_derived_from_the_identity() -> None:
    first = reading()
    again = reading(glucose_mg_dl=140, produced_at=first.produced_at + 60_000)
    other_time = reading(measured_at=first.measured_at + 300_000)
    assert first.event_id == again.event_id
    assert first.event_id != other_time.event_id
    assert len(first.event_id) == 32


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (39, ReadingStatus.BELOW_SENSOR_RANGE),
        (40, ReadingStatus.OK),
        (400, ReadingStatus.OK),
        (401, ReadingStatus.ABOVE_SENSOR_RANGE),
    ],
)
def test_sensor_status_from_the_sensor_range(value: int, status: ReadingStatus) -> None:
    assert sensor_status(value) is status


def test_out_of_range_value_must_be_flagged_not_passed_as_ok() -> None:
    with pytest.raises(InvalidReading, match="outside the sensor range 40-400"):
        reading(glucose_mg_dl=22)
    flagged = reading(glucose_mg_dl=22, status=ReadingStatus.BELOW_SENSOR_RANGE)
    assert flagged.glucose_mg_dl == 22  # kept as reported, never clipped


def test_sensor_flag_must_agree_with_the_value() -> None:
    with pytest.raises(InvalidReading, match="BELOW_SENSOR_RANGE with glucose_mg_dl 95"):
        reading(glucose_mg_dl=95, status=ReadingStatus.BELOW_SENSOR_RANGE)
    with pytest.raises(InvalidReading, match="ABOVE_SENSOR_RANGE with glucose_mg_dl 350"):
        reading(glucose_mg_dl=350, status=ReadingStatus.ABOVE_SENSOR_RANGE)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"patient_id": ""}, "patient_id must be a non-empty string"),
        ({"device_id": 42}, "device_id must be a non-empty string"),
        ({"utc_offset_minutes": 900}, "outside ±840"),
        ({"glucose_mg_dl": 0, "status": ReadingStatus.BELOW_SENSOR_RANGE}, "not within 1-10000"),
        ({"glucose_mg_dl": 2**40, "status": ReadingStatus.ABOVE_SENSOR_RANGE}, "not within"),
        ({"glucose_mg_dl": 112.7}, "glucose_mg_dl must be an integer, got float"),
        ({"glucose_mg_dl": True}, "glucose_mg_dl must be an integer, got bool"),
        ({"measured_at": "2026-01-05"}, "measured_at must be an integer, got str"),
        ({"measured_at": -5}, "between 1970 and 9999"),
        ({"status": "OK"}, "status must be a ReadingStatus"),
        ({"trend": None}, "trend must be a Trend"),
    ],
)
def test_contract_violations_are_named(overrides: dict, message: str) -> None:
    with pytest.raises(InvalidReading, match=message):
        reading(**overrides)


def test_from_record_reports_missing_and_bad_fields() -> None:
    record = reading().to_record()
    del record["session_id"]
    with pytest.raises(InvalidReading, match="missing field 'session_id'"):
        GlucoseReading.from_record(record)
    record = {**reading().to_record(), "trend": "SIDEWAYS"}
    with pytest.raises(InvalidReading, match="SIDEWAYS"):
        GlucoseReading.from_record(record)


def test_mmol_conversion() -> None:
    # 3.9 mmol/L is the consensus hypoglycaemia threshold, ~70 mg/dL; 10.0 mmol/L ~ 180 mg/dL.
    assert mmol_l_to_mg_dl(3.9) == 70
    assert mmol_l_to_mg_dl(10.0) == 180
    assert mmol_l_to_mg_dl(3.0) == 54
