"""The alerts consumer as a KCL application on the local stack (the Java MultiLangDaemon, its
Python record processors, leases in moto, kinesalite behind nghttpx): for the same readings it
raises the Lambda path's alerts, a kill -9 of its worker mid-stream loses and doubles nothing,
and a shard split while it consumes is followed (each parent to its end, then its children).
Minutes long (the KCL's own start-up waits): `make test-kcl`, which CI runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.local.kcl import processor_reports, processor_totals
from glucosestream.local.provision import provision
from glucosestream.local.workers import WorkerProcess
from glucosestream.settings import Settings
from tests.integration.conftest import stack_settings
from tests.integration.test_alerts_pipeline import drain, drive, falling, mapping

pytestmark = [pytest.mark.integration, pytest.mark.kcl]
START_UP_S = 240
"""The KCL's first lease assignment takes 1.5-2 minutes against moto (fixed waits of its own)."""


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def daemons_of(settings: Settings) -> list[int]:
    """Live MultiLangDaemon processes reading this stack's properties file."""
    properties = str(settings.state_dir / "kcl" / "alerts.properties")
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "MultiLangDaemon" in cmdline and properties in cmdline:
            found.append(int(proc.name))
    return found


def split_every_open_shard(settings: Settings) -> dict[str, str]:
    """SplitShard of each open shard of the readings stream at the middle of its hash range, as
    an operator scaling up would; returns each child shard's parent."""
    kinesis = aws_client("kinesis", settings)
    name = settings.names.readings_stream
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        if "EndingSequenceNumber" in shard["SequenceNumberRange"]:
            continue  # closed already
        low, high = (int(shard["HashKeyRange"][k]) for k in ("StartingHashKey", "EndingHashKey"))
        kinesis.split_shard(
            StreamName=name,
            ShardToSplit=shard["ShardId"],
            NewStartingHashKey=str((low + high) // 2),
        )
        wait_for(
            lambda: (
                kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
                    "StreamStatus"
                ]
                == "ACTIVE"
            ),
            10,
            "the split to finish",
        )
    return {
        s["ShardId"]: s["ParentShardId"]
        for s in kinesis.list_shards(StreamName=name)["Shards"]
        if "ParentShardId" in s and "EndingSequenceNumber" not in s["SequenceNumberRange"]
    }


@pytest.mark.timeout(900)
def test_the_kcl_consumer_pages_as_the_lambda_path_survives_kill_9_and_follows_a_split(
    running_stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    kcl = running_stack
    now_ms = int(time.time() * 1000)
    first = [r for n in range(31, 35) for r in falling(n, now_ms)[:5]]
    second = [r for n in range(31, 35) for r in falling(n, now_ms)[5:]]
    # Patients whose falls straddle a split: half on the parent shards, half on their children.
    before_split = [r for n in range(35, 41) for r in falling(n, now_ms)[:4]]
    after_split = [r for n in range(35, 41) for r in falling(n, now_ms)[4:]]

    Producer(readings_stream(kcl)).publish(first)
    worker = WorkerProcess("alerts-kcl", [], kcl)
    since = datetime.now(UTC).isoformat()
    worker.start()
    try:
        wait_for(
            lambda: processor_totals(kcl, since)["records_succeeded"] >= len(first),
            START_UP_S,
            "the KCL consumer to read the first readings",
        )
        assert daemons_of(kcl)
        worker.kill()  # SIGKILL: the daemon and nghttpx die with it (PR_SET_PDEATHSIG)
        wait_for(lambda: not daemons_of(kcl), 10, "the orphaned daemon to die")

        Producer(readings_stream(kcl)).publish(second)
        restarted = datetime.now(UTC).isoformat()
        worker.start()  # the same workerId: it takes its leases back from the checkpoints
        wait_for(
            lambda: processor_totals(kcl, restarted)["records_succeeded"] >= len(second),
            START_UP_S,
            "the restarted KCL consumer to read the rest",
        )

        Producer(readings_stream(kcl)).publish(before_split)
        parents = split_every_open_shard(kcl)  # while the consumer reads before_split
        Producer(readings_stream(kcl)).publish(after_split)
        wait_for(
            lambda: (
                processor_totals(kcl, restarted)["records_succeeded"]
                >= len(second) + len(before_split) + len(after_split)
            ),
            START_UP_S,
            "the KCL consumer to read the children of the split shards",
        )
    finally:
        worker.stop()
    assert not daemons_of(kcl)
    reports = {r["shard_id"]: r for r in processor_reports(kcl, restarted)}
    assert set(parents) <= set(reports), "a child shard was never read"
    assert any(reports[child]["records_succeeded"] for child in parents)
    for child, parent in parents.items():
        ended = reports[parent]["shard_ended_at"]
        assert ended is not None, f"{parent} was not read to its end"
        # The KCL starts a child only once its parent's end is checkpointed: per-patient order.
        if reports[child]["first_batch_at"] is not None:
            assert reports[child]["first_batch_at"] >= ended
    kcl_alerts = drain(kcl.names.alerts_feed_queue, kcl)
    kcl_ids = [a["alert_id"] for a in kcl_alerts]
    assert len(kcl_ids) == len(set(kcl_ids)), "an alert was published twice"
    assert {(a["patient_id"], a["kind"]) for a in kcl_alerts} >= {
        (first[0].patient_id, "URGENT_LOW")
    }

    # The Lambda path (the handler behind the local event-source mapping), same readings, in
    # another environment of the same stack.
    other = stack_settings(
        kcl.state_dir / "lambda-env",
        env="itlambda",
        kinesis_port=kcl.kinesis_port,
        moto_port=kcl.moto_port,
    )
    provision(other)
    for name, value in other.as_environment().items():
        monkeypatch.setenv(name, value)  # what the handler's composition root loads
    from consumers.alerts import handler

    handler._consumer.cache_clear()
    try:
        esm = mapping(other)
        esm.poll_once()
        everything = first + second + before_split + after_split
        Producer(readings_stream(other)).publish(everything)
        drive(esm, lambda: esm.stats.records_succeeded >= len(everything))
        lambda_alerts = drain(other.names.alerts_feed_queue, other)
    finally:
        handler._consumer.cache_clear()
    assert lambda_alerts
    assert sorted(kcl_ids) == sorted(a["alert_id"] for a in lambda_alerts)
