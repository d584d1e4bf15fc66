"""`glucosestream local status` reports whether the raw zone balances with the stream."""

from __future__ import annotations

import json

import pytest

from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.cli.main import main
from glucosestream.contract.entries import Entry
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.settings import Settings
from tests.factories import patient, trace

pytestmark = pytest.mark.integration


def test_status_balances_after_delivery(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from glucosestream.local import stack
    from tests.integration.conftest import stack_settings

    settings: Settings = stack_settings(tmp_path_factory.mktemp("balance"))
    stack.up(settings)
    try:
        for name, value in {
            "GS_STATE_DIR": settings.state_dir,
            "GS_KINESIS_PORT": settings.kinesis_port,
            "GS_MOTO_PORT": settings.moto_port,
            "GS_ENV": settings.env,
        }.items():
            monkeypatch.setenv(name, str(value))
        stream = readings_stream(settings)
        Producer(stream, aggregate=True).publish(trace(1, 300) + trace(2, 300))
        stream.put_batch([Entry(b"garbage", patient(3))])

        def status() -> dict:
            capsys.readouterr()  # drop what the delivery worker's transform logged
            assert main(["local", "status"]) == 0
            return json.loads(capsys.readouterr().out)["raw_zone"]

        before = status()
        assert before["in_stream"] == 601
        assert before["verdict"].startswith("601 pending")

        worker = FirehoseWorker(settings, buffer_seconds=0)
        while worker.poll_once():
            pass
        worker.flush(force=True)
        after = status()
        assert (after["raw_rows"], after["error_records"]) == (600, 1)
        assert after["verdict"] == "balanced: in stream = raw rows + error records"
    finally:
        stack.down(settings)
