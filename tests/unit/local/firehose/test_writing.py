"""What lands in the lake: the layout and schema of the Glue table, format-conversion
failures set aside, a tree DuckDB prunes by partition, and objects in the lake bucket on S3."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from glucosestream.lake.raw_zone import reading_columns
from glucosestream.lake.raw_zone.schema import glue_type_of_arrow
from glucosestream.settings import Settings
from tests.factories import START_MS, trace
from tests.unit.local.firehose.delivery import (
    HOUR_MS,
    FakeStream,
    error_documents,
    landed_event_ids,
    pump,
    raw_files,
    worker,
)


def test_partition_layout_and_file_schema_equal_the_glue_table(settings: Settings) -> None:
    stream = FakeStream(shards=2)
    readings = [r for n in range(4) for r in trace(n, 30)]  # 150 minutes: hours 00, 01, 02
    stream.put_readings(readings)
    w = worker(settings, stream)
    pump(w, stream)
    w.flush(force=True)
    by_hour: dict[str, int] = {}
    for path in raw_files(settings):
        relative = path.relative_to(settings.lake_dir).parts
        assert relative[:2] == ("raw", "readings")
        assert relative[2] == "dt=2026-01-05"
        schema = pq.read_schema(path)
        assert [(f.name, glue_type_of_arrow(f.type)) for f in schema] == [
            (c.name, c.glue_type) for c in reading_columns()
        ]
        table = pq.read_table(path)
        hours = {m.hour for m in table.column("measured_at").to_pylist()}
        assert {f"hour={h:02d}" for h in hours} == {relative[3]}
        by_hour[relative[3]] = by_hour.get(relative[3], 0) + table.num_rows
    expected: dict[str, int] = {}
    for r in readings:
        key = f"hour={(r.measured_at - START_MS) // HOUR_MS:02d}"
        expected[key] = expected.get(key, 0) + 1
    assert by_hour == expected
    assert sorted(landed_event_ids(settings)) == sorted(r.event_id for r in readings)


def test_json_that_does_not_convert_goes_to_format_conversion_errors(
    settings: Settings,
) -> None:
    from consumers.firehose_transform.handler import lambda_handler

    stream = FakeStream()
    stream.put_readings(trace(10, 3))

    def sloppy(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = lambda_handler(event, context)
        output = response["records"][1]
        row = json.loads(base64.b64decode(output["data"]))
        row["glucose_mg_dl"] = "high"  # a string where Glue says int
        output["data"] = base64.b64encode(json.dumps(row).encode()).decode()
        return response

    w = worker(settings, stream, transform=sloppy)
    pump(w, stream)
    w.flush(force=True)
    (error,) = error_documents(settings)
    assert error["errorKind"] == "format"
    assert json.loads(base64.b64decode(error["rawData"]))["glucose_mg_dl"] == "high"
    assert w.stats.rows_landed == 2
    assert w.checkpoint("shardId-000000000000") == f"{3:030d}"
    assert (
        (settings.lake_dir / "errors/readings/dt=2026-01-05/hour=00")
        .joinpath("format-conversion-failed")
        .is_dir()
    )


def files_read(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    """Parquet files a query opened, from DuckDB's EXPLAIN ANALYZE."""
    plan = "".join(str(row[1]) for row in connection.execute(f"EXPLAIN ANALYZE {query}").fetchall())
    match = re.search(r"Total Files Read:\s*(\d+)", plan)
    assert match, plan
    return int(match[1])


def test_duckdb_reads_the_tree_with_hive_partitions_and_prunes_hours(settings: Settings) -> None:
    stream = FakeStream(shards=2, page=10)
    readings = [r for n in range(3) for r in trace(n, 48)]  # hours 00-03
    stream.put_readings(readings)
    w = worker(settings, stream, buffer_bytes=4_000)  # several files an hour
    pump(w, stream)
    w.flush(force=True)
    files = raw_files(settings)
    in_hour_2 = [p for p in files if "hour=02" in p.parts]
    assert 1 < len(in_hour_2) < len(files)
    tree = f"read_parquet('{settings.lake_dir}/raw/readings/**/*.parquet', hive_partitioning=true)"
    one_hour = f"SELECT count(*) FROM {tree} WHERE dt = '2026-01-05' AND hour = '02'"
    connection = duckdb.connect()
    assert files_read(connection, one_hour) == len(in_hour_2)
    assert files_read(connection, f"SELECT count(*) FROM {tree}") == len(files)
    # Hours 01 and 03 turned to garbage: the one-hour query never opens them.
    for path in files:
        if "hour=01" in path.parts or "hour=03" in path.parts:
            path.write_bytes(b"not parquet")
    (count,) = connection.execute(one_hour).fetchone() or (0,)
    assert count == sum(1 for r in readings if (r.measured_at - START_MS) // HOUR_MS == 2)
    with pytest.raises(duckdb.Error):
        connection.execute(f"SELECT count(*) FROM {tree}").fetchall()


# --------------------------------------------------------------------------------------------
# Into the lake bucket on S3 (aws mode: the AWS-mode rehearsal's stand-in)
# --------------------------------------------------------------------------------------------

KEY_OF_A_RAW_OBJECT = re.compile(
    r"^raw/readings/dt=2026-01-05/hour=(0[0-3])/gs-test-raw-delivery-\d{4}(-\d\d){5}-[0-9a-f]{32}\.parquet$"
)


KEY_OF_AN_ERROR_OBJECT = re.compile(
    r"^errors/readings/dt=2026-01-05/hour=02/processing-failed/"
    r"gs-test-raw-delivery-\d{4}(-\d\d){5}-[0-9a-f]{32}\.jsonl$"
)
