"""The local ASL interpreter's Distributed Map: ItemReader (s3:listObjectsV2), ItemBatcher,
MaxConcurrency, tolerated failures, and the result shape."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import pytest

from glucosestream.local.stepfunctions import S3_LIST_OBJECTS, AslError, StatesError
from tests.unit.local.stepfunctions.asl import machine

BUCKET = "gs-dev-lake"
KEYS = [f"work/grid/run-1/input/chunk={n:05d}/part-0.parquet" for n in range(7)]


def listing(keys: list[str]) -> Any:
    """An s3:listObjectsV2 binding over a fixed bucket, recording its calls."""
    calls: list[dict[str, Any]] = []

    def list_objects(parameters: dict[str, Any]) -> list[dict[str, Any]]:
        calls.append(parameters)
        if parameters["Bucket"] != BUCKET:
            raise PermissionError(f"AccessDenied: s3://{parameters['Bucket']}")
        prefix = parameters.get("Prefix", "")
        return [
            {"Key": key, "Size": 1000 + i, "StorageClass": "STANDARD"}
            for i, key in enumerate(sorted(keys))
            if key.startswith(prefix)
        ]

    list_objects.calls = calls  # type: ignore[attr-defined]
    return list_objects


def distributed(
    *,
    batcher: dict[str, Any] | None = None,
    reader: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": reader
        or {
            "Resource": S3_LIST_OBJECTS,
            "Parameters": {"Bucket": BUCKET, "Prefix.$": "$.input_prefix"},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Work",
            "States": {"Work": {"Type": "Task", "Resource": "work", "End": True}},
        },
        "ResultPath": "$.grid",
        "End": True,
        **fields,
    }
    if batcher is not None:
        state["ItemBatcher"] = batcher
    return {"StartAt": "Grid", "States": {"Grid": state}}


INPUT = {"input_prefix": "work/grid/run-1/input/", "output_prefix": "work/grid/run-1/output/"}


def test_batches_of_listed_objects_with_batch_input() -> None:
    seen: list[dict[str, Any]] = []
    lock = threading.Lock()

    def work(event: dict[str, Any]) -> dict[str, Any]:
        with lock:
            seen.append(copy.deepcopy(event))
        return {"keys": [item["Key"] for item in event["Items"]]}

    definition = distributed(
        batcher={
            "MaxItemsPerBatch": 3,
            "BatchInput": {"output_prefix.$": "$.output_prefix", "period_end": "2026-01-18"},
        },
        MaxConcurrency=2,
    )
    lister = listing(KEYS)
    sm, _ = machine(definition, {"work": work, S3_LIST_OBJECTS: lister})
    run = sm.execute(INPUT)
    assert run.status == "SUCCEEDED", run.cause
    assert lister.calls == [{"Bucket": BUCKET, "Prefix": "work/grid/run-1/input/"}]
    # Three children (3 + 3 + 1 items), results in item order, the state input kept.
    assert run.output["grid"] == [{"keys": KEYS[0:3]}, {"keys": KEYS[3:6]}, {"keys": KEYS[6:7]}]
    assert run.output["input_prefix"] == INPUT["input_prefix"]
    assert len(seen) == 3
    for event in seen:
        assert event["BatchInput"] == {
            "output_prefix": "work/grid/run-1/output/",
            "period_end": "2026-01-18",
        }
        assert set(event) == {"Items", "BatchInput"}
        assert all(set(item) == {"Key", "Size", "StorageClass"} for item in event["Items"])
    started = [e for e in run.history if e["type"] == "MapRunStarted"]
    assert started[0]["details"] == {"name": "Grid", "items": 7, "childExecutions": 3}


def test_children_run_concurrently_up_to_max_concurrency() -> None:
    running, peak = [0], [0]
    lock = threading.Lock()

    def work(event: dict[str, Any]) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return len(event["Items"])

    definition = distributed(batcher={"MaxItemsPerBatch": 1}, MaxConcurrency=3)
    sm, _ = machine(definition, {"work": work, S3_LIST_OBJECTS: listing(KEYS)})
    run = sm.execute(INPUT)
    assert run.status == "SUCCEEDED"
    assert run.output["grid"] == [1] * 7
    assert peak[0] == 3


def test_batches_respect_max_input_bytes() -> None:
    definition = distributed(batcher={"MaxInputBytesPerBatch": 400})
    sizes: list[int] = []

    def work(event: dict[str, Any]) -> int:
        import json

        sizes.append(len(json.dumps(event, separators=(",", ":"))))
        return len(event["Items"])

    sm, _ = machine(definition, {"work": work, S3_LIST_OBJECTS: listing(KEYS)})
    run = sm.execute(INPUT)
    assert run.status == "SUCCEEDED", run.cause
    assert sum(run.output["grid"]) == 7
    assert len(run.output["grid"]) > 1
    assert max(sizes) <= 400


def test_without_batcher_each_item_is_a_child_and_item_selector_applies() -> None:
    definition = distributed(
        ItemSelector={"key.$": "$$.Map.Item.Value.Key", "index.$": "$$.Map.Item.Index"}
    )
    sm, _ = machine(definition, {"work": lambda e: e, S3_LIST_OBJECTS: listing(KEYS[:2])})
    run = sm.execute(INPUT)
    assert run.output["grid"] == [{"key": KEYS[0], "index": 0}, {"key": KEYS[1], "index": 1}]


def test_items_from_the_state_input_and_max_items() -> None:
    definition = distributed(batcher={"MaxItemsPerBatch": 2})
    del definition["States"]["Grid"]["ItemReader"]
    definition["States"]["Grid"]["ItemsPath"] = "$.keys"
    sm, _ = machine(definition, {"work": lambda e: e["Items"]})
    run = sm.execute({"keys": ["a", "b", "c"]})
    assert run.output["grid"] == [["a", "b"], ["c"]]

    capped = distributed(
        reader={
            "Resource": S3_LIST_OBJECTS,
            "Parameters": {"Bucket": BUCKET, "Prefix": "work/"},
            "ReaderConfig": {"MaxItems": 2},
        }
    )
    sm, _ = machine(capped, {"work": lambda e: e["Key"], S3_LIST_OBJECTS: listing(KEYS)})
    assert sm.execute({}).output["grid"] == KEYS[:2]


def test_an_empty_listing_gives_an_empty_result() -> None:
    definition = distributed(batcher={"MaxItemsPerBatch": 5})
    sm, _ = machine(definition, {"work": lambda e: 1, S3_LIST_OBJECTS: listing([])})
    run = sm.execute(INPUT)
    assert (run.status, run.output["grid"]) == ("SUCCEEDED", [])


def test_one_failed_child_fails_the_map_and_starts_no_further_child() -> None:
    calls: list[list[str]] = []

    def work(event: dict[str, Any]) -> int:
        calls.append([item["Key"] for item in event["Items"]])
        if any("chunk=00001" in key for key in calls[-1]):
            raise ValueError("chunk 1 is not Parquet")
        return 0

    definition = distributed(
        batcher={"MaxItemsPerBatch": 1},
        MaxConcurrency=1,
        Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
    )
    definition["States"]["Grid"].pop("End")
    definition["States"]["Grid"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    definition["States"]["Failed"] = {"Type": "Pass", "End": True}
    sm, _ = machine(definition, {"work": work, S3_LIST_OBJECTS: listing(KEYS)})
    run = sm.execute(INPUT)
    assert run.status == "SUCCEEDED"
    assert run.output["error"]["Error"] == "States.ExceedToleratedFailureThreshold"
    assert "ValueError: chunk 1 is not Parquet" in run.output["error"]["Cause"]
    assert len(calls) == 2  # the first child succeeded, the second failed, none after it


def test_tolerated_failures_keep_the_error_in_the_result() -> None:
    def work(event: dict[str, Any]) -> str:
        key = event["Items"][0]["Key"]
        if "chunk=00003" in key:
            raise StatesError("GridMetrics.BadInput", key)
        return "ok"

    definition = distributed(batcher={"MaxItemsPerBatch": 1}, ToleratedFailurePercentage=20)
    sm, _ = machine(definition, {"work": work, S3_LIST_OBJECTS: listing(KEYS)})
    run = sm.execute(INPUT)
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["grid"][3] == {"Error": "GridMetrics.BadInput", "Cause": KEYS[3]}
    assert run.output["grid"].count("ok") == 6

    strict = distributed(batcher={"MaxItemsPerBatch": 1}, ToleratedFailureCount=0)
    sm, _ = machine(strict, {"work": work, S3_LIST_OBJECTS: listing(KEYS)})
    assert sm.execute(INPUT).error == "States.ExceedToleratedFailureThreshold"


def test_a_failing_listing_is_an_item_reader_failure() -> None:
    definition = distributed(
        reader={"Resource": S3_LIST_OBJECTS, "Parameters": {"Bucket": "other-bucket"}}
    )
    sm, _ = machine(definition, {"work": lambda e: e, S3_LIST_OBJECTS: listing(KEYS)})
    run = sm.execute({})
    assert run.status == "FAILED"
    assert run.error == "States.ItemReaderFailed"
    assert "AccessDenied: s3://other-bucket" in (run.cause or "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["ItemProcessor"]["ProcessorConfig"].update(Mode="INLINE"), "DISTRIBUTED"),
        (lambda s: s.update(ResultWriter={}), "ResultWriter is not supported"),
        (lambda s: s["ItemReader"].update(Resource="arn:aws:states:::s3:getObject"), "not supp"),
        (lambda s: s.update(ItemsPath="$.keys"), "exclude each other"),
        (lambda s: s["ItemReader"].update(Parameters={"Prefix": "x/"}), "need a Bucket"),
        (lambda s: s.update(ItemBatcher={"BatchInput": {}}), "needs MaxItemsPerBatch"),
        (lambda s: s.update(ItemBatcher={"MaxItemsPerBatch": 0}), "must be > 0"),
        (lambda s: s.update(ItemBatcher={"MaxItemsPerBatchPath": "$.n"}), "not supported"),
        (lambda s: s.update(ToleratedFailurePercentage=101), "0..100"),
        (lambda s: s.update(MaxConcurrency=-1), "MaxConcurrency"),
    ],
)
def test_invalid_distributed_maps_are_rejected(change: Any, message: str) -> None:
    definition = distributed()
    change(definition["States"]["Grid"])
    with pytest.raises(AslError, match=message):
        machine(definition, {"work": lambda e: e, S3_LIST_OBJECTS: listing(KEYS)})


def test_an_item_reader_needs_a_binding() -> None:
    with pytest.raises(AslError, match="no binding for the ItemReader"):
        machine(distributed(), {"work": lambda e: e})
