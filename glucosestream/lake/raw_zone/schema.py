"""The raw zone's table schema, derived from the Avro event contract by code.

One column list feeds three consumers, so they cannot drift apart:

* the Glue table that Firehose's record format conversion reads
  (``schemas/glucose_reading.glue.json``, written by :func:`write_glue_table` through
  ``python -m glucosestream.lake.raw_zone`` and checked by a test; Terraform decodes that file);
* the JSON the transform Lambda emits (one key per column, see :mod:`.transform`);
* the Parquet files the local delivery worker writes (:func:`parquet_schema`).

Type mapping (Avro → Glue → Arrow/Parquet)::

    string                   → string    → string
    int                      → int       → int32
    long                     → bigint    → int64
    float / double           → float / double
    boolean                  → boolean   → bool
    enum                     → string    → string
    long timestamp-millis    → timestamp → timestamp[ms] (no zone; values are UTC)
    ["null", T] (or [T, "null"]) → the mapping of T

Timestamps travel through JSON as epoch milliseconds, which Firehose's Hive JSON SerDe parses
when configured with ``TimestampFormats = ["millis"]`` (:data:`HIVE_JSON_TIMESTAMP_FORMATS`).
The Glue ``timestamp`` type has no time zone; every value in the lake is UTC.

Any other Avro type (records, arrays, maps, bytes, other logical types) has no mapping here and
raises :class:`SchemaMappingError`: a schema change that needs one must extend this module first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glucosestream.contract.codec import READING_SCHEMA, default_codec
from glucosestream.resources import project_path

if TYPE_CHECKING:
    import pyarrow as pa

GLUE_TABLE_FILE = project_path("schemas", "glucose_reading.glue.json")
"""The generated Glue table definition (columns and partition keys) Terraform reads."""

RAW_READINGS_TABLE = "raw_readings"
HIVE_JSON_TIMESTAMP_FORMATS = ("millis",)
"""``HiveJsonSerDe.TimestampFormats`` of the Firehose record format conversion: the transform
writes timestamps as epoch milliseconds."""

GLUE_COMMENT_MAX = 255
"""Glue's limit on a column comment."""


class SchemaMappingError(ValueError):
    """An Avro type the raw zone cannot map to a Glue column; the message names the field."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the raw table.

    Attributes
    ----------
    name
        Column name (lower case: Glue folds names to lower case).
    glue_type
        Glue/Hive type name: ``string``, ``int``, ``bigint``, ``float``, ``double``,
        ``boolean`` or ``timestamp``.
    comment
        From the Avro field's ``doc`` (cut to 255 characters).
    nullable
        The Avro type was a union with ``null``.
    """

    name: str
    glue_type: str
    comment: str = ""
    nullable: bool = False

    def as_glue(self) -> dict[str, str]:
        """The column as Glue's ``Column`` structure (``Name``, ``Type``, ``Comment``)."""
        column = {"Name": self.name, "Type": self.glue_type}
        if self.comment:
            column["Comment"] = self.comment
        return column


INGESTED_AT = Column(
    name="ingested_at",
    glue_type="timestamp",
    comment=(
        "When the record reached Kinesis (approximate arrival time), UTC. Not part of the event "
        "contract: added by the Firehose transform, so late uploads can be measured."
    ),
)
"""The one column the lake adds to the contract's fields."""

PARTITION_KEYS = (
    Column("dt", "string", "UTC date of measured_at, yyyy-MM-dd (Firehose dynamic partition)."),
    Column("hour", "string", "UTC hour of measured_at, HH (Firehose dynamic partition)."),
)
"""Hive partition columns: directories ``dt=YYYY-MM-DD/hour=HH``, not columns of the files."""

_PRIMITIVES = {
    "string": "string",
    "int": "int",
    "long": "bigint",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
}
_LOGICAL = {("long", "timestamp-millis"): "timestamp"}


def _arrow_types() -> dict[str, pa.DataType]:
    # pyarrow is imported here, not at module level: the transform Lambda needs the column list
    # but must not carry pyarrow (~100 MB) in its bundle.
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
    }


def _glue_type(field: str, avro: Any, named: dict[str, str], namespace: str) -> tuple[str, bool]:
    """(Glue type, nullable) of one Avro type; ``named`` collects enums for later references."""
    if isinstance(avro, list):
        members = [member for member in avro if member != "null"]
        if len(members) != 1:
            raise SchemaMappingError(
                f"field {field}: only unions of null and one type map to a column, got {avro}"
            )
        inner, _ = _glue_type(field, members[0], named, namespace)
        return inner, len(members) != len(avro)
    if isinstance(avro, str):
        if avro in _PRIMITIVES:
            return _PRIMITIVES[avro], False
        full = avro if "." in avro else f"{namespace}.{avro}"
        if full in named:
            return named[full], False
        raise SchemaMappingError(f"field {field}: Avro type {avro!r} has no column mapping")
    if isinstance(avro, dict):
        kind = str(avro.get("type"))
        logical = avro.get("logicalType")
        if logical is not None:
            if (kind, str(logical)) in _LOGICAL:
                return _LOGICAL[(kind, str(logical))], False
            raise SchemaMappingError(
                f"field {field}: logical type {logical} on {kind} has no column mapping"
            )
        if kind == "enum":
            name = str(avro["name"])
            full = name if "." in name else f"{avro.get('namespace', namespace)}.{name}"
            named[full] = "string"
            return "string", False
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind], False
        raise SchemaMappingError(f"field {field}: Avro type {kind!r} has no column mapping")
    raise SchemaMappingError(f"field {field}: unreadable Avro type {avro!r}")


def columns_from_avro(schema: Mapping[str, Any]) -> tuple[Column, ...]:
    """The columns of an Avro record schema, in field order.

    Parameters
    ----------
    schema
        The record schema as JSON (the ``.avsc`` document, logical types included).

    Returns
    -------
    tuple of Column
        One column per field.

    Raises
    ------
    SchemaMappingError
        A field whose type has no mapping, or whose name is not lower case.
    """
    if schema.get("type") != "record":
        raise SchemaMappingError("only an Avro record schema maps to a table")
    namespace = str(schema.get("namespace", ""))
    named: dict[str, str] = {}
    columns = []
    for field in schema["fields"]:
        name = str(field["name"])
        if name != name.lower():
            # Glue lower-cases column names; the JSON keys would then miss their column.
            raise SchemaMappingError(f"field {name}: column names must be lower case")
        glue_type, nullable = _glue_type(name, field["type"], named, namespace)
        doc = " ".join(str(field.get("doc", "")).split())
        columns.append(Column(name, glue_type, doc[:GLUE_COMMENT_MAX], nullable))
    return tuple(columns)


def reading_avro_schema() -> dict[str, Any]:
    """The newest ``GlucoseReading`` schema the codec knows, as its ``.avsc`` JSON."""
    path = default_codec().schema(READING_SCHEMA).path
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def reading_columns(schema: Mapping[str, Any] | None = None) -> tuple[Column, ...]:
    """The raw table's columns: the reading schema's fields, then :data:`INGESTED_AT`."""
    contract = columns_from_avro(schema if schema is not None else reading_avro_schema())
    if any(column.name == INGESTED_AT.name for column in contract):
        raise SchemaMappingError(
            f"the contract may not define {INGESTED_AT.name}: the lake adds it"
        )
    return (*contract, INGESTED_AT)


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow (and so Parquet) type of a column."""
    try:
        return _arrow_types()[column.glue_type]
    except KeyError:
        raise SchemaMappingError(
            f"column {column.name}: no Arrow type for {column.glue_type}"
        ) from None


def parquet_schema(columns: Sequence[Column] | None = None) -> pa.Schema:
    """The schema of every raw Parquet file: the columns, in order, with their Arrow types."""
    import pyarrow as pa

    columns = reading_columns() if columns is None else columns
    return pa.schema([pa.field(c.name, arrow_type(c), nullable=True) for c in columns])


def json_schema(columns: Sequence[Column] | None = None) -> pa.Schema:
    """How the transform's JSON is read: as :func:`parquet_schema`, timestamps as int64 millis."""
    import pyarrow as pa

    columns = reading_columns() if columns is None else columns
    return pa.schema(
        [
            pa.field(c.name, pa.int64() if c.glue_type == "timestamp" else arrow_type(c))
            for c in columns
        ]
    )


def glue_type_of_arrow(data_type: pa.DataType) -> str:
    """The Glue type an Arrow type reads as (the inverse of :func:`arrow_type`)."""
    import pyarrow as pa

    if pa.types.is_timestamp(data_type):
        # Any unit: Firehose's writer and pyarrow's INT96 reader differ here, Athena does not.
        return "timestamp"
    for glue_type, arrow in _arrow_types().items():
        if data_type == arrow:
            return glue_type
    raise SchemaMappingError(f"no Glue type for Arrow type {data_type}")


def glue_table(columns: Sequence[Column] | None = None) -> dict[str, Any]:
    """The Glue table definition of the raw zone: name, columns, partition keys, SerDe hints."""
    columns = reading_columns() if columns is None else columns
    return {
        "generated_by": "python -m glucosestream.lake.raw_zone (from the Avro schema; do not edit)",
        "source_schema": f"schemas/{default_codec().schema(READING_SCHEMA).path.name}",
        "table": RAW_READINGS_TABLE,
        "columns": [column.as_glue() for column in columns],
        "partition_keys": [column.as_glue() for column in PARTITION_KEYS],
        "hive_json_timestamp_formats": list(HIVE_JSON_TIMESTAMP_FORMATS),
    }


def render_glue_table() -> str:
    """:func:`glue_table` as the exact text of :data:`GLUE_TABLE_FILE`."""
    return json.dumps(glue_table(), indent=2) + "\n"


def write_glue_table(path: Path = GLUE_TABLE_FILE) -> Path:
    """(Re)generate the Glue table file from the Avro schema; returns its path."""
    path.write_text(render_glue_table())
    return path
