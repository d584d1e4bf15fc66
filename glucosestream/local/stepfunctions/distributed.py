"""The Distributed Map's child executions: their inputs (ItemBatcher) and the failures a Map run
tolerates (ToleratedFailurePercentage/Count)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from glucosestream.local.stepfunctions.errors import StatesError
from glucosestream.local.stepfunctions.intrinsics import apply_template, compact_json
from glucosestream.local.stepfunctions.validation import MAX_CHILD_INPUT_BYTES


def child_inputs(
    name: str, batcher: Mapping[str, Any] | None, items: list[Any], data: Any, context: Any
) -> list[Any]:
    """The input of each child execution: an item, or ``{"Items": [...], "BatchInput": ...}``."""
    if batcher is None:
        return items
    extra: dict[str, Any] = {}
    if "BatchInput" in batcher:
        extra["BatchInput"] = apply_template(batcher["BatchInput"], data, context)
    max_items = batcher.get("MaxItemsPerBatch", 0)
    max_bytes = min(
        batcher.get("MaxInputBytesPerBatch", MAX_CHILD_INPUT_BYTES), MAX_CHILD_INPUT_BYTES
    )
    empty = len(compact_json({"Items": [], **extra}).encode())
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = empty
    for item in items:
        item_bytes = len(compact_json(item).encode()) + (1 if current else 0)
        if current and ((max_items and len(current) >= max_items) or size + item_bytes > max_bytes):
            batches.append(current)
            current, size, item_bytes = [], empty, item_bytes - 1
        if size + item_bytes > max_bytes:
            raise StatesError(
                "States.Runtime",
                f"Map {name!r}: an item does not fit in a batch of {max_bytes} bytes",
            )
        current.append(item)
        size += item_bytes
    if current:
        batches.append(current)
    return [{"Items": batch, **copy.deepcopy(extra)} for batch in batches]


class FailureTolerance:
    """ToleratedFailurePercentage/Count of a Map run: failed items against its thresholds."""

    def __init__(self, state: Mapping[str, Any], total: int) -> None:
        self.percentage = state.get("ToleratedFailurePercentage")
        self.count = state.get("ToleratedFailureCount")
        if self.percentage is None and self.count is None:
            self.count = 0
        self.total = total
        self.failed_items = 0
        self.first: StatesError | None = None
        self.lock = threading.Lock()

    def failed(self, items: int, error: StatesError) -> None:
        with self.lock:
            self.failed_items += items
            self.first = self.first or error

    def exceeded(self) -> bool:
        with self.lock:
            failed = self.failed_items
        if self.count is not None and failed > self.count:
            return True
        return (
            self.percentage is not None
            and self.total > 0
            and 100 * failed / self.total > self.percentage
        )

    def describe(self, name: str) -> str:
        first = f"; first: {self.first.error}: {self.first.cause}" if self.first else ""
        return (
            f"Map {name!r}: {self.failed_items} of {self.total} items failed, over the tolerated "
            f"failures{first}"
        )
