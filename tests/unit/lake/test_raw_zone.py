"""The raw zone's schema (Avro → Glue → Parquet), JSON rows, partition keys and durable files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glucosestream.lake.raw_zone import (
    GLUE_TABLE_FILE,
    SchemaMappingError,
    columns_from_avro,
    parquet_schema,
    partition_of,
    reading_columns,
    reading_json,
    render_glue_table,
)
from glucosestream.lake.raw_zone.files import (
    TEMPORARY_PREFIX,
    count_raw_zone,
    remove_temporaries,
    table_from_json_lines,
    write_json_lines,
    write_parquet,
)
from glucosestream.lake.raw_zone.schema import glue_type_of_arrow, reading_avro_schema
from glucosestream.lake.raw_zone.transform import reading_row
from tests.factories import START_MS, reading, trace


def test_glue_columns_follow_the_avro_schema_field_by_field() -> None:
    columns = {c.name: c.glue_type for c in reading_columns()}
    assert columns == {
        "event_id": "string",
        "patient_id": "string",
        "device_id": "string",
        "session_id": "string",
        "measured_at": "timestamp",
        "utc_offset_minutes": "int",
        "glucose_mg_dl": "int",
        "status": "string",
        "trend": "string",
        "source": "string",
        "produced_at": "timestamp",
        "ingested_at": "timestamp",
    }
    avro_names = [f["name"] for f in reading_avro_schema()["fields"]]
    assert [c.name for c in reading_columns()][:-1] == avro_names


def test_the_generated_glue_file_is_up_to_date() -> None:
    # Regenerate with `python -m glucosestream.lake.raw_zone` after changing the Avro schema.
    assert GLUE_TABLE_FILE.read_text() == render_glue_table()
    table = json.loads(GLUE_TABLE_FILE.read_text())
    assert [c["Name"] for c in table["partition_keys"]] == ["dt", "hour"]
    assert "patient_id" not in [c["Name"] for c in table["partition_keys"]]


def test_a_new_optional_field_maps_to_its_inner_type() -> None:
    schema = {
        "type": "record",
        "name": "R",
        "namespace": "io.x",
        "fields": [
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A"]}},
            {"name": "again", "type": "Kind"},
            {"name": "note", "type": ["null", "string"], "default": None},
            {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
            {"name": "n", "type": "long"},
            {"name": "ok", "type": "boolean"},
            {"name": "x", "type": "double"},
        ],
    }
    columns = columns_from_avro(schema)
    assert [(c.name, c.glue_type, c.nullable) for c in columns] == [
        ("kind", "string", False),
        ("again", "string", False),
        ("note", "string", True),
        ("at", "timestamp", True),
        ("n", "bigint", False),
        ("ok", "boolean", False),
        ("x", "double", False),
    ]


@pytest.mark.parametrize(
    "avro_type",
    [
        {"type": "array", "items": "string"},
        ["null", "string", "int"],
        "bytes",
        {"type": "int", "logicalType": "date"},
        "Unknown",
    ],
)
def test_types_without_a_column_mapping_are_refused(avro_type: object) -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "f", "type": avro_type}]}
    with pytest.raises(SchemaMappingError, match="field f"):
        columns_from_avro(schema)


def test_upper_case_field_names_are_refused() -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "Field", "type": "int"}]}
    with pytest.raises(SchemaMappingError, match="lower case"):
        columns_from_avro(schema)


def test_parquet_schema_reads_back_as_the_glue_types() -> None:
    schema = parquet_schema()
    assert [(f.name, glue_type_of_arrow(f.type)) for f in schema] == [
        (c.name, c.glue_type) for c in reading_columns()
    ]
    assert schema.field("measured_at").type == pa.timestamp("ms")


@pytest.mark.parametrize(
    "device_id", ["dexcom-g6-8RK2QF", 'quote"back\\slash', "naïve-é", "tab\tnewline\n"]
)
def test_json_rows_are_exactly_json_dumps_of_the_row(device_id: str) -> None:
    r = reading(device_id=device_id)
    expected = json.dumps(reading_row(r, 123), separators=(",", ":"))
    assert reading_json(r, 123) == expected
    assert json.loads(reading_json(r, 123))["device_id"] == device_id


@pytest.mark.parametrize(
    ("epoch_ms", "expected"),
    [
        (START_MS, ("2026-01-05", "00")),
        (START_MS + 3_600_000 - 1, ("2026-01-05", "00")),
        (START_MS + 3_600_000, ("2026-01-05", "01")),
        (START_MS - 1, ("2026-01-04", "23")),
        (0, ("1970-01-01", "00")),
    ],
)
def test_partition_keys_are_the_utc_date_and_hour(epoch_ms: int, expected: tuple[str, str]) -> None:
    assert partition_of(epoch_ms) == expected


def test_json_lines_convert_to_the_parquet_schema_with_exact_values() -> None:
    readings = trace(2, 3)
    data = "".join(reading_json(r, START_MS + 9) + "\n" for r in readings).encode()
    table = table_from_json_lines(data)
    assert table.schema == parquet_schema()
    assert table.column("glucose_mg_dl").to_pylist() == [r.glucose_mg_dl for r in readings]
    measured = table.column("measured_at").cast(pa.int64()).to_pylist()
    assert measured == [r.measured_at for r in readings]


def test_json_that_does_not_fit_the_schema_is_refused() -> None:
    row = json.loads(reading_json(reading(), 1))
    row["glucose_mg_dl"] = 2**40  # out of int range: Firehose's conversion fails it too
    with pytest.raises(pa.ArrowInvalid):
        table_from_json_lines((json.dumps(row) + "\n").encode())


def test_parquet_files_appear_whole_and_are_counted(tmp_path: Path) -> None:
    table = table_from_json_lines("".join(reading_json(r, 1) + "\n" for r in trace(1, 5)).encode())
    path = tmp_path / "raw/readings/dt=2026-01-05/hour=00/a.parquet"
    write_parquet(path, table, compression="snappy", metadata={"gs.sources": "{}"})
    write_json_lines(tmp_path / "errors/readings/dt=2026-01-05/hour=00/x/e.jsonl", [{"a": 1}] * 2)
    assert pq.read_table(path).num_rows == 5
    assert pq.read_schema(path).metadata[b"gs.sources"] == b"{}"
    assert [p.name for p in path.parent.iterdir()] == ["a.parquet"]
    counts = count_raw_zone(tmp_path)
    assert counts.as_dict() == {
        "raw_rows": 5,
        "raw_files": 1,
        "error_records": 2,
        "error_files": 1,
    }


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    table = pa.table({"x": [1]})
    with pytest.raises(ValueError, match="compression"):
        write_parquet(tmp_path / "a.parquet", table, compression="gzip")
    assert list(tmp_path.iterdir()) == []


def test_temporaries_of_a_crash_are_removed(tmp_path: Path) -> None:
    leftover = tmp_path / "raw/readings/dt=2026-01-05/hour=00" / f"{TEMPORARY_PREFIX}x.parquet"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file")
    assert remove_temporaries(tmp_path / "raw/readings") == 1
    assert not leftover.exists()
    assert count_raw_zone(tmp_path).raw_files == 0


def test_the_raw_ddl_declares_the_columns_generated_from_the_avro_schema(tmp_path: Path) -> None:
    # sql/ddl/raw_readings.sql is written by hand; the Glue columns come from the Avro schema.
    # The two must name the same columns, in the same order, with the same partition keys.
    from glucosestream.lake.raw_zone.schema import glue_table
    from glucosestream.local.athena import LocalAthena

    table = LocalAthena().define_table("ddl/raw_readings.sql", tmp_path)
    generated = glue_table()
    assert [name for name, _ in table.columns] == [c["Name"] for c in generated["columns"]]
    assert [name for name, _ in table.partitioned_by] == [
        c["Name"] for c in generated["partition_keys"]
    ]
