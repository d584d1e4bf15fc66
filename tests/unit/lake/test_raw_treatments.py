"""The raw treatments table: its Glue file and DDL from the treatment contract, and the Firehose
transform of the treatments delivery stream (the same Lambda as the readings one)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from glucosestream.contract.codec import TREATMENT_SCHEMA, default_codec
from glucosestream.domain.treatment import GlucoseTreatment, InvalidTreatment
from glucosestream.lake.raw_zone.schema import TREATMENTS, glue_table, render_glue_table
from glucosestream.lake.raw_zone.transform import failure_reason, transform_event
from glucosestream.settings import ResourceNames
from tests.factories import reading

TREATED_AT = 1_767_598_800_000  # 2026-01-05T07:40:00Z
BOLUS = GlucoseTreatment(
    treatment_id="65a1f0c2e4b0a1b2c3d4e5f6",
    patient_id="p_0a1b2c",
    event_type="Meal Bolus",
    treated_at=TREATED_AT,
    utc_offset_minutes=60,
    insulin_units=4.5,
    carbs_g=None,
    entered_by="AndroidAPS",
    is_valid=True,
    modified_at=TREATED_AT + 1_000,
    produced_at=TREATED_AT + 1_200,
)
TREATMENTS_ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + (
    ResourceNames("dev").treatments_delivery_stream
)


def event(data: bytes, stream_arn: str = TREATMENTS_ARN) -> dict[str, Any]:
    return {
        "invocationId": "i-1",
        "deliveryStreamArn": stream_arn,
        "region": "us-east-1",
        "records": [
            {
                "recordId": "r-1",
                "approximateArrivalTimestamp": TREATED_AT + 2_000,
                "data": base64.b64encode(data).decode(),
                "kinesisRecordMetadata": {"partitionKey": BOLUS.patient_id},
            }
        ],
    }


def test_the_generated_glue_file_and_the_ddl_follow_the_contract(tmp_path: Path) -> None:
    from glucosestream.local.athena import LocalAthena

    # Regenerate with `python -m glucosestream.lake.raw_zone` after changing the Avro schema.
    assert TREATMENTS.glue_file.read_text() == render_glue_table(TREATMENTS)
    generated = glue_table(raw_table=TREATMENTS)
    assert generated["table"] == "raw_treatments"
    table = LocalAthena().define_table("ddl/raw_treatments.sql", tmp_path)
    assert [name for name, _ in table.columns] == [c["Name"] for c in generated["columns"]]
    assert [c.glue_type for c in TREATMENTS.columns()][5:7] == ["double", "double"]


def test_a_treatment_becomes_one_json_row_in_the_hour_of_its_time() -> None:
    data = default_codec().encode(BOLUS.to_record(), TREATMENT_SCHEMA)
    (output,) = transform_event(event(data))["records"]
    assert output["result"] == "Ok"
    assert output["metadata"]["partitionKeys"] == {"dt": "2026-01-05", "hour": "07"}
    row = json.loads(base64.b64decode(output["data"]))
    assert row == {**BOLUS.to_record(), "ingested_at": TREATED_AT + 2_000}


def test_a_reading_on_the_treatments_delivery_fails_with_its_reason() -> None:
    data = default_codec().encode(reading().to_record())
    (output,) = transform_event(event(data))["records"]
    assert output["result"] == "ProcessingFailed"
    assert failure_reason(output) == (
        "avro",
        "record is a io.glucosestream.GlucoseReading, expected io.glucosestream.GlucoseTreatment",
    )
    # ...and a treatment on the readings delivery stream likewise.
    treatment = default_codec().encode(BOLUS.to_record(), TREATMENT_SCHEMA)
    readings_arn = TREATMENTS_ARN.replace("treatments-delivery", "raw-delivery")
    (output,) = transform_event(event(treatment, readings_arn))["records"]
    assert failure_reason(output)[0] == "avro"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"insulin_units": 150.0}, "insulin_units 150.0 is out of range (0-100 U)"),
        ({"carbs_g": -5.0}, "carbs_g -5.0 is out of range (0-1000 g)"),
        ({"treatment_id": ""}, "treatment_id must be a non-empty string"),
        ({"is_valid": 1}, "is_valid must be a boolean"),
        ({"utc_offset_minutes": 900}, "utc_offset_minutes 900 is outside ±840"),
        ({"insulin_units": True}, "insulin_units must be a number of U or null"),
    ],
)
def test_a_treatment_outside_the_contract_is_refused_naming_the_field(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidTreatment, match=message.replace("(", r"\(").replace(")", r"\)")):
        GlucoseTreatment(**{**BOLUS.to_record(), **change})


def test_a_contract_violation_in_the_stream_fails_the_record_as_contract() -> None:
    record = {**BOLUS.to_record(), "insulin_units": 500.0}  # fits Avro, breaks the contract
    data = default_codec().encode(record, TREATMENT_SCHEMA)
    (output,) = transform_event(event(data))["records"]
    assert failure_reason(output) == ("contract", "insulin_units 500.0 is out of range (0-100 U)")
