"""Keep the local DynamoDB state across stack restarts.

moto keeps its state in memory; kinesalite keeps the stream on disk and the consumers keep their
checkpoints on disk. Without this, a restarted stack would resume the stream from the
checkpoints but with empty alert state — an episode ongoing across the restart could page
again. ``local down`` exports the patient-state table to ``<state_dir>/dynamodb/``; ``local up``
imports it into the new, empty table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glucosestream.adapters.clients import aws_client
from glucosestream.lake.durable_files import atomic_text_file
from glucosestream.settings import Settings


def export_file(settings: Settings) -> Path:
    return settings.state_dir / "dynamodb" / f"{settings.names.patient_state_table}.jsonl"


def export_state(settings: Settings) -> int:
    """Every item of the patient-state table, one JSON line each (DynamoDB JSON); returns the
    count. Written beside and renamed, so a failed export keeps the previous one."""
    dynamodb = aws_client("dynamodb", settings)
    path = export_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_text_file(path) as out:
        kwargs: dict[str, Any] = {"TableName": settings.names.patient_state_table}
        while True:
            page = dynamodb.scan(**kwargs)
            for item in page["Items"]:
                out.write(json.dumps(item, sort_keys=True) + "\n")
                count += 1
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return count


def import_state(settings: Settings) -> int:
    """Load the last export into an empty table; returns the items loaded (0 if none)."""
    path = export_file(settings)
    if not path.is_file():
        return 0
    dynamodb = aws_client("dynamodb", settings)
    table = settings.names.patient_state_table
    if dynamodb.scan(TableName=table, Limit=1)["Items"]:
        return 0  # the table already has state (the moto server was not restarted)
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")
    return len(items)
