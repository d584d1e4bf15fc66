"""The transform invoked as Firehose invokes it: retries, then the error output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from glucosestream.settings import Settings
from tests.factories import trace
from tests.unit.local.firehose.delivery import (
    FakeStream,
    error_documents,
    landed_event_ids,
    pump,
    raw_files,
    worker,
)
from tests.unit.local.firehose.process_transforms import (
    CRASH_MARKER,
    crashing_once_transform,
    raising_transform,
)


def failing_transform(failures: int) -> Callable[[dict[str, Any], Any], Any]:
    from consumers.firehose_transform.handler import lambda_handler

    calls = {"n": 0}

    def transform(event: dict[str, Any], context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise TimeoutError("Task timed out after 60.00 seconds")
        return lambda_handler(event, context)

    return transform


def test_a_failing_transform_is_retried_then_its_records_go_to_errors(
    settings: Settings,
) -> None:
    stream = FakeStream()
    stream.put_readings(trace(8, 3))
    w = worker(settings, stream, transform=failing_transform(10**6), transform_retries=2)
    pump(w, stream)
    w.flush(force=True)
    assert w.stats.invocations == 3
    errors = error_documents(settings)
    assert [e["errorCode"] for e in errors] == ["Lambda.FunctionError"] * 3
    assert errors[0]["attemptsMade"] == 3
    assert "TimeoutError" in errors[0]["errorMessage"]
    assert w.checkpoint("shardId-000000000000") == f"{3:030d}"


def test_a_transform_that_recovers_on_retry_loses_nothing(settings: Settings) -> None:
    stream = FakeStream()
    stream.put_readings(trace(8, 3))
    w = worker(settings, stream, transform=failing_transform(1))
    pump(w, stream)
    w.flush(force=True)
    assert (w.stats.rows_landed, w.stats.errors_landed, w.stats.invocations) == (3, 0, 2)


def test_a_response_with_missing_record_ids_fails_the_invocation(settings: Settings) -> None:
    stream = FakeStream()
    stream.put_readings(trace(9, 2))

    def forgetful(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"records": [{"recordId": event["records"][0]["recordId"], "result": "Ok"}]}

    w = worker(settings, stream, transform=forgetful, transform_retries=0)
    pump(w, stream)
    w.flush(force=True)
    assert [e["errorCode"] for e in error_documents(settings)] == ["Lambda.FunctionError"] * 2
    assert w.stats.rows_landed == 0


# -- invocations in worker processes ----------------------------------------------------------


def landed_rows(settings: Settings) -> list[dict[str, Any]]:
    rows = [row for path in raw_files(settings) for row in pq.read_table(path).to_pylist()]
    return sorted(rows, key=lambda row: str(row["event_id"]))


def test_invocations_in_processes_land_what_the_polling_thread_lands(
    settings: Settings, tmp_path: Path
) -> None:
    readings = [r for patient in range(6) for r in trace(40 + patient, 50)]
    landed: dict[int, tuple[list[dict[str, Any]], str | None, int]] = {}
    for processes in (0, 2):
        run = settings.model_copy(update={"state_dir": tmp_path / f"processes-{processes}"})
        stream = FakeStream(shards=2, page=40)
        stream.put_readings(readings)
        # Small invocations, so that several are in flight at once and finish out of order.
        w = worker(run, stream, invocation_bytes=600, transform_processes=processes)
        try:
            pump(w, stream)
            w.flush(force=True)
            checkpoints = w.checkpoint("shardId-000000000000")
            landed[processes] = (landed_rows(run), checkpoints, w.stats.invocations)
        finally:
            w.close()
    rows, checkpoint, invocations = landed[2]
    assert len(rows) == len(readings)
    assert invocations > 10
    assert (rows, checkpoint) == landed[0][:2]


def test_a_transform_raising_in_a_process_is_retried_then_its_records_go_to_errors(
    settings: Settings,
) -> None:
    stream = FakeStream()
    stream.put_readings(trace(8, 3))
    w = worker(
        settings,
        stream,
        transform=raising_transform,
        transform_retries=1,
        transform_processes=1,
    )
    try:
        pump(w, stream)
        w.flush(force=True)
    finally:
        w.close()
    errors = error_documents(settings)
    assert [e["errorCode"] for e in errors] == ["Lambda.FunctionError"] * 3
    assert errors[0]["attemptsMade"] == 2
    assert "TimeoutError: Task timed out" in errors[0]["errorMessage"]
    assert w.checkpoint("shardId-000000000000") == f"{3:030d}"


def test_a_transform_process_that_dies_fails_the_attempt_and_the_retry_lands_everything(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CRASH_MARKER, str(tmp_path / "crashed"))
    stream = FakeStream()
    stream.put_readings(trace(8, 12))
    w = worker(settings, stream, transform=crashing_once_transform, transform_processes=1)
    try:
        pump(w, stream)
        w.flush(force=True)
    finally:
        w.close()
    assert (tmp_path / "crashed").exists()
    assert (w.stats.invocation_failures, w.stats.rows_landed, w.stats.errors_landed) == (1, 12, 0)
    assert sorted(landed_event_ids(settings)) == sorted(r.event_id for r in trace(8, 12))


def test_a_transform_that_cannot_be_sent_to_a_process_is_refused_up_front(
    settings: Settings,
) -> None:
    with pytest.raises(ValueError, match="module-level function"):
        worker(
            settings, FakeStream(), transform=lambda event, context: event, transform_processes=1
        )


@pytest.mark.parametrize("processes", [-1, 33, True, 1.5])
def test_transform_processes_out_of_range_are_refused(
    settings: Settings, processes: object
) -> None:
    with pytest.raises(ValueError, match="transform processes must be 0-32"):
        worker(settings, FakeStream(), transform_processes=processes)
