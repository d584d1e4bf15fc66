"""The alerts Lambda handler against moto's DynamoDB, SNS and SQS (in-process)."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from consumers.alerts import handler
from glucosestream.adapters.patient_state import PatientStateStore
from glucosestream.alerts.consumer import AlertConsumer
from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.alerts.ports import StoredState
from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import Entry
from glucosestream.contract.kpl import aggregate
from glucosestream.settings import Settings

EVENT = Path(__file__).parents[3] / "events" / "kinesis_readings_falling_to_hypo.json"


def load_event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())


@pytest.fixture
def aws(aws_mode: Settings) -> Settings:
    return aws_mode


def feed(settings: Settings) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=settings.names.alerts_feed_queue)["QueueUrl"]
    messages = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        if not got.get("Messages"):
            return messages
        for message in got["Messages"]:
            messages.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def stored(settings: Settings, patient_id: str) -> StoredState:
    store = PatientStateStore(boto3.client("dynamodb"), settings.names.patient_state_table)
    return store.load(patient_id)


class Clock:
    def __init__(self, event: dict[str, Any]) -> None:
        self.now = event["Records"][-1]["kinesis"]["approximateArrivalTimestamp"] + 1

    def __call__(self) -> float:
        return self.now


def consumer(settings: Settings, event: dict[str, Any]) -> AlertConsumer:
    built = handler.build_consumer(settings)
    built.clock = Clock(event)
    return built


def test_a_falling_patient_pages_soon_low_and_urgent_low_once_each(aws: Settings) -> None:
    event = load_event()
    response = handler.handle(event, consumer(aws, event))
    assert response == {"batchItemFailures": []}
    messages = feed(aws)
    kinds = [m["MessageAttributes"]["kind"]["StringValue"] for m in messages]
    assert kinds == ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert {b["patient_id"] for b in bodies} == {event["Records"][0]["kinesis"]["partitionKey"]}
    assert [b["glucose_mg_dl"] for b in bodies] == [76, 58, 52]
    assert messages[2]["MessageAttributes"]["severity"]["StringValue"] == "CRITICAL"
    assert {m["MessageAttributes"]["silenced"]["StringValue"] for m in messages} == {"false"}
    assert {m["MessageAttributes"]["repeat"]["StringValue"] for m in messages} == {"0"}
    assert len({b["episode_start"] for b in bodies}) == 1
    state = stored(aws, bodies[0]["patient_id"])
    assert state.version == 2  # one write for the batch, one to clear the published outbox
    assert state.outbox == []


def test_redelivery_pages_nothing_and_writes_nothing(aws: Settings) -> None:
    event = load_event()
    handler.handle(event, consumer(aws, event))
    feed(aws)
    again = consumer(aws, event)
    assert handler.handle(copy.deepcopy(event), again) == {"batchItemFailures": []}
    assert feed(aws) == []
    assert again.store.writes == 0  # type: ignore[attr-defined]


def test_writes_are_one_per_patient_per_batch_without_alerts(aws: Settings) -> None:
    calm = {"Records": load_event()["Records"][:2]}  # 92, 84: nothing to page yet
    built = consumer(aws, calm)
    handler.handle(calm, built)
    assert built.store.writes == 1  # type: ignore[attr-defined]
    assert feed(aws) == []


def test_a_poison_record_fails_it_and_everything_after_it(aws: Settings) -> None:
    event = load_event()
    event["Records"][4]["kinesis"]["data"] = base64.b64encode(b"\xc3\x01garbage!").decode()
    response = handler.handle(event, consumer(aws, event))
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [r["kinesis"]["sequenceNumber"] for r in event["Records"][4:]]
    # The records before it were applied: the first alert (urgent low soon at 76) went out.
    assert [m["MessageAttributes"]["kind"]["StringValue"] for m in feed(aws)] == ["URGENT_LOW_SOON"]


def test_a_poison_record_first_in_the_batch_raises_for_bisect(aws: Settings) -> None:
    event = load_event()
    event["Records"][0]["kinesis"]["data"] = base64.b64encode(b"not avro").decode()
    with pytest.raises(handler.PoisonRecord, match=r"undecodable record \(avro\)"):
        handler.handle(event, consumer(aws, event))


def test_a_failed_publish_keeps_the_alert_and_the_redelivery_sends_it_once(
    aws: Settings,
) -> None:
    event = load_event()
    built = consumer(aws, event)
    real_publish = built.publisher.publish
    calls = {"n": 0}

    def flaky(alert):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("SNS unavailable")
        return real_publish(alert)

    built.publisher.publish = flaky  # type: ignore[method-assign]
    response = handler.handle(event, built)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    ]
    patient = event["Records"][0]["kinesis"]["partitionKey"]
    assert [a["kind"] for a in stored(aws, patient).outbox] == ["LOW", "URGENT_LOW"]
    assert len(feed(aws)) == 1

    retry = consumer(aws, event)
    assert handler.handle(event, retry) == {"batchItemFailures": []}
    assert [m["MessageAttributes"]["kind"]["StringValue"] for m in feed(aws)] == [
        "LOW",
        "URGENT_LOW",
    ]
    assert stored(aws, patient).outbox == []


def test_a_concurrent_write_is_retried_on_fresh_state(aws: Settings) -> None:
    event = load_event()
    built = consumer(aws, event)
    store = built.store
    real_save = store.save
    interfered = {"done": False}

    def racing_save(candidate: StoredState, now_s: int) -> StoredState:
        if not interfered["done"]:
            interfered["done"] = True
            real_save(StoredState(candidate.patient_id, candidate.version, None, []), now_s)
        return real_save(candidate, now_s)

    store.save = racing_save  # type: ignore[method-assign]
    handler.handle(event, built)
    assert built.store.writes >= 3  # type: ignore[attr-defined]
    kinds = [m["MessageAttributes"]["kind"]["StringValue"] for m in feed(aws)]
    assert kinds == ["URGENT_LOW_SOON", "LOW", "URGENT_LOW"]


def test_kpl_aggregated_records_are_unpacked(aws: Settings) -> None:
    event = load_event()
    codec = default_codec()
    entries = [
        (Entry(base64.b64decode(r["kinesis"]["data"]), r["kinesis"]["partitionKey"]), i)
        for i, r in enumerate(event["Records"])
    ]
    ((aggregate_entry, _),) = aggregate(entries)
    record = copy.deepcopy(event["Records"][-1])
    record["kinesis"]["data"] = base64.b64encode(aggregate_entry.data).decode()
    single = {"Records": [record]}
    assert codec.decode(entries[0][0].data)["glucose_mg_dl"] == 92
    handler.handle(single, consumer(aws, single))
    kinds = [m["MessageAttributes"]["kind"]["StringValue"] for m in feed(aws)]
    # The aggregate arrives with its last reading: the 58 mg/dL reading that forecast the low
    # when it came alone is now 10 minutes old on arrival, too old to forecast from; the
    # measured alerts still page.
    assert kinds == ["LOW", "URGENT_LOW"]


def test_logs_never_carry_glucose_values(aws: Settings) -> None:
    event = load_event()
    event["Records"][5]["kinesis"]["data"] = base64.b64encode(b"\xc3\x01bad").decode()
    captured = io.StringIO()
    previous = handler.logger.registered_handler.setStream(captured)  # type: ignore[attr-defined]
    try:
        handler.handle(event, consumer(aws, event))
    finally:
        handler.logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    logged = captured.getvalue()
    assert "alert raised" in logged
    assert "batch failed from a record" in logged
    assert "glucose" not in logged
    lines = [json.loads(line) for line in logged.splitlines()]
    glucose_values = {92, 84, 76, 69, 63, 58, 52, 49}
    for line in lines:
        # No field of any log line holds one of the batch's glucose values.
        assert not glucose_values.intersection(v for v in line.values() if isinstance(v, int))


def test_settings_stored_in_dynamodb_apply_and_survive_the_consumers_writes(aws: Settings) -> None:
    """Quiet hours round the clock: LOW is published silenced, URGENT_LOW never; the consumer's
    conditional writes keep the settings a clinician stored."""
    event = load_event()
    patient_id = event["Records"][0]["kinesis"]["partitionKey"]
    store = PatientStateStore(boto3.client("dynamodb"), aws.names.patient_state_table)
    PatientAlertControls(store).update_settings(
        patient_id, {"quiet_hours": "00:00-23:59", "low_mg_dl": 65}
    )
    handler.handle(event, consumer(aws, event))
    attributes = {
        m["MessageAttributes"]["kind"]["StringValue"]: m["MessageAttributes"]["silenced"][
            "StringValue"
        ]
        for m in feed(aws)
    }
    assert attributes == {"URGENT_LOW_SOON": "false", "LOW": "true", "URGENT_LOW": "false"}
    state = stored(aws, patient_id)
    assert state.version == 3  # the settings, the batch, the outbox cleared
    assert state.settings == {
        "low_mg_dl": 65,
        "high_mg_dl": 250,
        "high_alerts": False,
        "quiet_hours": "00:00-23:59",
    }


def test_state_expires_after_30_silent_days_unless_the_patient_has_settings(
    aws: Settings,
) -> None:
    event = load_event()
    patient_id = event["Records"][0]["kinesis"]["partitionKey"]
    handler.handle(event, consumer(aws, event))
    dynamodb = boto3.client("dynamodb")
    key = {"patient_id": {"S": patient_id}}
    table = aws.names.patient_state_table
    assert "expires_at" in dynamodb.get_item(TableName=table, Key=key)["Item"]
    store = PatientStateStore(dynamodb, table)
    PatientAlertControls(store).update_settings(patient_id, {"low_mg_dl": 75})
    assert "expires_at" not in dynamodb.get_item(TableName=table, Key=key)["Item"]
