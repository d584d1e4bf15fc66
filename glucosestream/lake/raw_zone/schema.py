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

from glucosestream.contract.codec import (
    ERASURE_SCHEMA,
    READING_SCHEMA,
    TREATMENT_SCHEMA,
    default_codec,
)
from glucosestream.resources import project_path

if TYPE_CHECKING:
    import pyarrow as pa

    from glucosestream.settings import ResourceNames

GLUE_TABLE_FILE = project_path("schemas", "glucose_reading.glue.json")
"""The generated Glue table definition (columns and partition keys) Terraform reads."""

RAW_READINGS_TABLE = "raw_readings"
RAW_TREATMENTS_TABLE = "raw_treatments"
TREATMENT_GLUE_TABLE_FILE = project_path("schemas", "glucose_treatment.glue.json")
RAW_ERASURES_TABLE = "raw_erasures"
ERASURE_GLUE_TABLE_FILE = project_path("schemas", "glucose_reading_erasure.glue.json")
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


@dataclass(frozen=True, slots=True)
class RawTable:
    """One table of the raw zone: the contract schema its rows come from, its Glue file, and
    its place in the resource names (``dataset``: ``raw/<dataset>/``, the stream
    ``gs-<env>-<dataset>`` and its delivery stream)."""

    table: str
    schema_name: str
    """The Avro record's full name (the codec's newest version of it)."""
    glue_file: Path
    dataset: str

    def avro_schema(self) -> dict[str, Any]:
        """The newest version of the schema the codec knows, as its ``.avsc`` JSON."""
        document: dict[str, Any] = json.loads(self.source_path().read_text())
        return document

    def source_path(self) -> Path:
        return default_codec().schema(self.schema_name).path

    def columns(self, schema: Mapping[str, Any] | None = None) -> tuple[Column, ...]:
        """The table's columns: the schema's fields, then :data:`INGESTED_AT`."""
        contract = columns_from_avro(schema if schema is not None else self.avro_schema())
        if any(column.name == INGESTED_AT.name for column in contract):
            raise SchemaMappingError(
                f"the contract may not define {INGESTED_AT.name}: the lake adds it"
            )
        return (*contract, INGESTED_AT)


READINGS = RawTable(RAW_READINGS_TABLE, READING_SCHEMA, GLUE_TABLE_FILE, "readings")
TREATMENTS = RawTable(
    RAW_TREATMENTS_TABLE, TREATMENT_SCHEMA, TREATMENT_GLUE_TABLE_FILE, "treatments"
)
ERASURES = RawTable(RAW_ERASURES_TABLE, ERASURE_SCHEMA, ERASURE_GLUE_TABLE_FILE, "erasures")
RAW_TABLES = (READINGS, TREATMENTS, ERASURES)


@dataclass(frozen=True, slots=True)
class RawDelivery:
    """Where a raw table comes from and lands: its stream, Firehose delivery stream and
    prefixes (names of :class:`~glucosestream.settings.ResourceNames`)."""

    stream: str
    delivery_stream: str
    raw_prefix: str
    errors_prefix: str


def delivery_of(names: ResourceNames, raw_table: RawTable) -> RawDelivery:
    """The resource names of a raw table's delivery."""
    if raw_table is TREATMENTS:
        return RawDelivery(
            names.treatments_stream,
            names.treatments_delivery_stream,
            names.raw_treatments_prefix,
            names.treatment_errors_prefix,
        )
    if raw_table is ERASURES:
        return RawDelivery(
            names.erasures_stream,
            names.erasures_delivery_stream,
            names.raw_erasures_prefix,
            names.erasure_errors_prefix,
        )
    return RawDelivery(
        names.readings_stream,
        names.firehose_delivery_stream,
        names.raw_readings_prefix,
        names.errors_prefix,
    )


def reading_avro_schema() -> dict[str, Any]:
    """The newest ``GlucoseReading`` schema the codec knows, as its ``.avsc`` JSON."""
    return READINGS.avro_schema()


def reading_columns(schema: Mapping[str, Any] | None = None) -> tuple[Column, ...]:
    """The raw readings table's columns: the reading schema's fields, then :data:`INGESTED_AT`."""
    return READINGS.columns(schema)


def treatment_columns() -> tuple[Column, ...]:
    """The raw treatments table's columns: the treatment schema's fields, then ``ingested_at``."""
    return TREATMENTS.columns()


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


def glue_table(
    columns: Sequence[Column] | None = None, raw_table: RawTable = READINGS
) -> dict[str, Any]:
    """The Glue table definition of a raw table: name, columns, partition keys, SerDe hints."""
    columns = raw_table.columns() if columns is None else columns
    return {
        "generated_by": "python -m glucosestream.lake.raw_zone (from the Avro schema; do not edit)",
        "source_schema": f"schemas/{raw_table.source_path().name}",
        "table": raw_table.table,
        "columns": [column.as_glue() for column in columns],
        "partition_keys": [column.as_glue() for column in PARTITION_KEYS],
        "hive_json_timestamp_formats": list(HIVE_JSON_TIMESTAMP_FORMATS),
    }


def render_glue_table(raw_table: RawTable = READINGS) -> str:
    """:func:`glue_table` as the exact text of the raw table's Glue file."""
    return json.dumps(glue_table(raw_table=raw_table), indent=2) + "\n"


def write_glue_table(raw_table: RawTable = READINGS, path: Path | None = None) -> Path:
    """(Re)generate a raw table's Glue file from its Avro schema; returns its path."""
    target = path or raw_table.glue_file
    target.write_text(render_glue_table(raw_table))
    return target
