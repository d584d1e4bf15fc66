"""The raw zone of the lake: schema (from the Avro contract), the Firehose transform, and files.

See :mod:`.schema` for the column list and its Glue/Parquet types, :mod:`.transform` for the
transform both the Lambda and the local delivery worker call, :mod:`.files` for durable writes
and counts (imported on its own: it needs pyarrow, which the transform Lambda does not carry).
"""

from glucosestream.lake.raw_zone.schema import (
    GLUE_TABLE_FILE,
    INGESTED_AT,
    PARTITION_KEYS,
    Column,
    SchemaMappingError,
    columns_from_avro,
    glue_table,
    parquet_schema,
    reading_columns,
    render_glue_table,
    write_glue_table,
)
from glucosestream.lake.raw_zone.transform import (
    failure_reason,
    partition_of,
    reading_json,
    transform_event,
    transform_record,
)

__all__ = [
    "GLUE_TABLE_FILE",
    "INGESTED_AT",
    "PARTITION_KEYS",
    "Column",
    "SchemaMappingError",
    "columns_from_avro",
    "failure_reason",
    "glue_table",
    "parquet_schema",
    "partition_of",
    "reading_columns",
    "reading_json",
    "render_glue_table",
    "transform_event",
    "transform_record",
    "write_glue_table",
]
