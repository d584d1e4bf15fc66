"""Done-when of the pipeline: a corrupt device stops the run with a message and a notification."""

from __future__ import annotations

import json

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.cli.main import main
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.settings import Settings

pytestmark = pytest.mark.integration


def test_a_chattering_device_stops_the_pipeline_and_notifies(
    stack_env: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from consumers.pipeline import handler

    handler._settings.cache_clear()
    argv = ["simulate", "--patients", "3", "--days", "1", "--seed", "5", "--publish"]
    assert main([*argv, "--corrupt-devices", "1"]) == 0
    worker = FirehoseWorker(stack_env, buffer_seconds=0)
    while worker.poll_once():
        pass
    worker.flush(force=True)

    capsys.readouterr()
    assert main(["elt", "run"]) == 1
    err = capsys.readouterr().err
    assert "data-quality gate failed: readings_per_patient_day" in err

    sqs = aws_client("sqs", stack_env)
    url = sqs.get_queue_url(QueueName=stack_env.names.pipeline_feed_queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
    assert len(messages) == 1
    assert "readings_per_patient_day" in messages[0]["Body"]
    assert not list((stack_env.lake_dir / "marts" / "patient_period_metrics").rglob("*.parquet"))
    assert (
        json.loads(sorted((stack_env.state_dir / "logs").glob("pipeline-*.json"))[-1].read_text())[
            "error"
        ]
        == "DataQualityFailed"
    )
