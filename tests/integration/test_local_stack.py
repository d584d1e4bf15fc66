"""The local AWS stack: idempotent up, every resource usable, Kinesis round trip, clean down."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import struct
import time
from collections import defaultdict
from pathlib import Path

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.contract.codec import default_codec
from glucosestream.local import stack
from glucosestream.local.processes import StackError, process_matches
from glucosestream.settings import Settings
from tests.factories import trace
from tests.integration.conftest import stack_settings

pytestmark = pytest.mark.integration


def test_up_is_idempotent_and_status_reports_it(running_stack: Settings) -> None:
    before = json.loads(stack.status_file(running_stack).read_text())["processes"]
    stack.up(running_stack)
    after = json.loads(stack.status_file(running_stack).read_text())["processes"]
    assert {n: p["pid"] for n, p in before.items()} == {n: p["pid"] for n, p in after.items()}
    status = stack.status(running_stack)
    assert status.running
    assert set(status.processes) == {"kinesalite", "moto"}
    assert all(p["listening"] for p in status.processes.values())


def test_every_server_binds_loopback_only(running_stack: Settings) -> None:
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    ports = {
        int(line.split()[1].split(":")[1], 16): line.split()[1].split(":")[0]
        for line in listening
        if line.split()[3] == "0A"  # LISTEN
    }
    for port in (running_stack.kinesis_port, running_stack.moto_port):
        assert ports[port] == "0100007F", f"port {port} listens on {ports[port]}"


def test_the_aws_apis_keep_a_connection_for_many_requests(running_stack: Settings) -> None:
    # Given one TCP connection to the local AWS APIs (moto), as botocore keeps one
    connection = http.client.HTTPConnection("127.0.0.1", running_stack.moto_port, timeout=10)
    body = json.dumps({"QueueNamePrefix": ""})
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.ListQueues",
        # moto routes by the credential scope's service (it checks no signature)
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261207/"
        f"{running_stack.region}/sqs/aws4_request, SignedHeaders=host, Signature=0",
    }
    try:
        # When three requests go over it, one after the other
        answers = []
        for _ in range(3):
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Connection"), response.read()))
            sockets = connection.sock
        # Then each is answered and the server never closes the connection
        assert [status for status, _, _ in answers] == [200, 200, 200]
        assert all(header != "close" for _, header, _ in answers)
        assert all(b"QueueUrls" in text for _, _, text in answers)
        assert connection.sock is sockets is not None
    finally:
        connection.close()


def test_resources_exist_and_the_alerts_topic_feeds_its_queue(running_stack: Settings) -> None:
    names = running_stack.names
    dynamodb = aws_client("dynamodb", running_stack)
    table = dynamodb.describe_table(TableName=names.patient_state_table)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    sns, sqs = aws_client("sns", running_stack), aws_client("sqs", running_stack)
    topic = sns.create_topic(Name=names.alerts_topic)["TopicArn"]
    queue = sqs.get_queue_url(QueueName=names.alerts_feed_queue)["QueueUrl"]
    sns.publish(
        TopicArn=topic,
        Message=json.dumps({"kind": "URGENT_LOW"}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "URGENT_LOW"}},
    )
    messages = sqs.receive_message(
        QueueUrl=queue, WaitTimeSeconds=2, MessageAttributeNames=["All"]
    ).get("Messages", [])
    assert [json.loads(m["Body"]) for m in messages] == [{"kind": "URGENT_LOW"}]
    assert messages[0]["MessageAttributes"]["kind"]["StringValue"] == "URGENT_LOW"
    sqs.get_queue_url(QueueName=names.alerts_dlq)


def test_a_thousand_readings_go_through_kinesis_and_come_back_in_order(
    running_stack: Settings,
) -> None:
    readings = [r for patient in range(1, 9) for r in trace(patient, 125)]
    assert len(readings) == 1000
    stream = readings_stream(running_stack)
    report = Producer(stream).publish(readings)
    assert report.sent == 1000
    assert report.put_calls == 2  # 500 + 500

    codec = default_codec()
    by_patient: dict[str, list[str]] = defaultdict(list)
    shard_ids = stream.shard_ids()
    assert len(shard_ids) == running_stack.stream_shards
    for shard_id in shard_ids:
        for record in stream.read_available(shard_id):
            decoded = codec.decode(record.data)
            assert record.partition_key == decoded["patient_id"]
            by_patient[decoded["patient_id"]].append(decoded["event_id"])
    sent: dict[str, list[str]] = defaultdict(list)
    for r in readings:
        sent[r.patient_id].append(r.event_id)
    assert sum(len(ids) for ids in by_patient.values()) == 1000
    assert by_patient == sent


def test_a_client_gone_mid_request_does_not_take_kinesis_down(running_stack: Settings) -> None:
    # A worker killed while it sends leaves a request with half its body: kinesalite rethrew
    # that error and the whole local Kinesis died (seen in the fault tests).
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", running_stack.kinesis_port)) as half:
            half.sendall(
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-amz-json-1.1\r\n"
                b'X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 1000\r\n\r\n{"Lim'
            )
            half.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        time.sleep(0.2)
    kinesis = aws_client("kinesis", running_stack)
    assert running_stack.names.readings_stream in kinesis.list_streams()["StreamNames"]
    assert stack.status(running_stack).processes["kinesalite"]["listening"]


def test_busy_port_is_a_clear_error_and_starts_nothing(
    running_stack: Settings, tmp_path: Path
) -> None:
    clash = stack_settings(tmp_path, kinesis_port=running_stack.kinesis_port)
    with pytest.raises(StackError, match=f"port {clash.kinesis_port} on 127.0.0.1 is busy"):
        stack.up(clash)
    assert not stack.status_file(clash).exists()


def test_down_stops_only_what_up_started(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    status = stack.up(settings)
    pids = {name: p["pid"] for name, p in status.processes.items()}
    markers = {name: p["marker"] for name, p in status.processes.items()}
    assert sorted(stack.down(settings)) == ["kinesalite", "moto"]
    for name, pid in pids.items():
        assert not process_matches(pid, markers[name]), f"{name} still running"
    assert not stack.status(settings).running
    assert stack.down(settings) == []


def test_down_does_not_signal_a_pid_that_is_no_longer_ours(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    stack.up(settings)
    document = json.loads(stack.status_file(settings).read_text())
    real = dict(document["processes"])
    # Pretend kinesalite's PID was reused by this test process.
    document["processes"]["kinesalite"] = {**real["kinesalite"], "pid": os.getpid()}
    stack.status_file(settings).write_text(json.dumps(document))
    try:
        assert stack.down(settings) == ["moto"]
    finally:
        os.killpg(real["kinesalite"]["pid"], signal.SIGTERM)


def test_alert_state_survives_a_restart_of_the_stack(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    stack.up(settings)
    try:
        dynamodb = aws_client("dynamodb", settings)
        table = settings.names.patient_state_table
        dynamodb.put_item(
            TableName=table,
            Item={"patient_id": {"S": "p_1"}, "version": {"N": "3"}, "state": {"S": "{}"}},
        )
    finally:
        stack.down(settings)
    stack.up(settings)  # a new moto server: empty until the export is loaded
    try:
        item = aws_client("dynamodb", settings).get_item(
            TableName=settings.names.patient_state_table, Key={"patient_id": {"S": "p_1"}}
        )["Item"]
        assert item["version"] == {"N": "3"}
    finally:
        stack.down(settings)
