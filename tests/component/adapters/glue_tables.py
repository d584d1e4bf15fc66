"""The lake's Glue tables as Terraform's lake module creates them from ``sql/ddl/`` (columns,
partition keys, TBLPROPERTIES, Parquet SerDe, location), for tests against moto's Glue."""

from __future__ import annotations

import re
from typing import Any

from glucosestream.elt.tables import table_prefix
from glucosestream.settings import ResourceNames
from glucosestream.warehouse.sql_text import sql_file, table_columns

RAW = "raw_readings"
RAW_TABLES = (RAW, "raw_treatments", "raw_erasures")
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def table_location(names: ResourceNames, table: str) -> str:
    raw = f"raw/{table.removeprefix('raw_')}/"
    prefix = raw if table.startswith("raw_") else table_prefix(names, table)
    return f"s3://{names.lake_bucket}/{prefix}"


def ddl_properties(table: str) -> dict[str, str]:
    """The TBLPROPERTIES of ``sql/ddl/<table>.sql`` (Terraform's regular expressions)."""
    text = sql_file(f"ddl/{table}.sql").read_text()
    block = re.search(r"(?s)TBLPROPERTIES\s*\((.*)\)", text)
    return dict(re.findall(r"'([^']+)'\s*=\s*'([^']*)'", block.group(1))) if block else {}


def create_lake_table(glue: Any, names: ResourceNames, table: str) -> None:
    ddl = table_columns(table)
    glue.create_table(
        DatabaseName=names.glue_database,
        TableInput={
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                **ddl_properties(table),
                "EXTERNAL": "TRUE",
                "classification": "parquet",
            },
            "PartitionKeys": [{"Name": n, "Type": t.lower()} for n, t in ddl.partitioned_by],
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t.lower()} for n, t in ddl.columns],
                "Location": table_location(names, table),
                "InputFormat": PARQUET_INPUT,
                "OutputFormat": PARQUET_OUTPUT,
                "SerdeInfo": {
                    "SerializationLibrary": PARQUET_SERDE,
                    "Parameters": {"serialization.format": "1"},
                },
            },
        },
    )
