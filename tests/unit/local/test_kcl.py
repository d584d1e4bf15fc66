"""The local KCL daemon's configuration (glucosestream.local.kcl): its properties, the HTTP/2
front for kinesalite, the SDK endpoints, and the totals of the record-processor reports."""

from __future__ import annotations

import json
import os

import pytest

from glucosestream.local import kcl
from glucosestream.local.processes import StackError
from glucosestream.settings import Settings


def test_the_daemon_reads_the_readings_stream_through_the_front_and_leases_at_moto(
    settings: Settings,
) -> None:
    config = kcl.KclConfig(settings, front_port=45999, worker_id="gs-test-local-1")
    properties = dict(
        line.split(" = ", 1) for line in config.properties().splitlines() if line.strip()
    )
    assert properties["streamName"] == settings.names.readings_stream
    assert properties["applicationName"] == "gs-test-alerts-kcl"
    assert properties["executableName"].endswith("-m consumers.alerts_kcl.processor")
    assert properties["workerId"] == "gs-test-local-1"  # fixed: a restart resumes its leases
    assert int(properties["shutdownGraceMillis"]) > 0  # 0 makes the KCL's shutdown throw
    assert "backend=127.0.0.1," + str(settings.kinesis_port) in config.nghttpx_config()
    assert "frontend=127.0.0.1,45999;no-tls" in config.nghttpx_config()
    environment = config.environment()
    assert environment["AWS_ENDPOINT_URL_KINESIS"] == "http://127.0.0.1:45999"
    assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == f"http://127.0.0.1:{settings.moto_port}"
    assert environment["GS_ENV"] == settings.env  # the processors load the same settings


def test_missing_binaries_name_the_setup_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kcl.shutil, "which", lambda name: None if name == "nghttpx" else "/x")
    with pytest.raises(StackError, match=r"needs nghttpx: run `make setup-kcl`"):
        kcl.required_binaries()


def test_totals_add_up_the_processors_started_by_this_worker(settings: Settings) -> None:
    directory = kcl.reports_dir(settings)
    directory.mkdir(parents=True)
    reports = {
        "processor-10.json": {"pid": 10, "started_at": "2026-01-05T07:59:00+00:00",
                              "records_succeeded": 500},  # an earlier worker's
        "processor-11.json": {"pid": 11, "started_at": "2026-01-05T08:00:01+00:00",
                              "records_succeeded": 120, "records_discarded": 1},
        "processor-12.json": {"pid": 12, "started_at": "2026-01-05T08:00:02+00:00",
                              "records_succeeded": 80, "retries": 2},
    }  # fmt: skip
    for name, document in reports.items():
        (directory / name).write_text(json.dumps(document))
    (directory / "processor-13.json").write_text("{not json")  # being replaced: skipped
    assert kcl.processor_totals(settings, "2026-01-05T08:00:00+00:00") == {
        "records_succeeded": 200,
        "records_discarded": 1,
        "retries": 2,
        "processors": 2,
    }


def test_a_processor_reports_in_its_own_file(settings: Settings) -> None:
    report = kcl.processor_reporter(settings)
    report({"shard_id": "shardId-000000000001", "records_succeeded": 7})
    written = json.loads((kcl.reports_dir(settings) / f"processor-{os.getpid()}.json").read_text())
    assert (written["pid"], written["records_succeeded"]) == (os.getpid(), 7)
