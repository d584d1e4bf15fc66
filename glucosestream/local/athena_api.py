"""A local Athena API endpoint: Athena's API on 127.0.0.1, DuckDB over a lake in S3.

For the AWS-mode rehearsal: a plain boto3 ``athena`` client given this endpoint's
``endpoint_url`` (and so :class:`glucosestream.adapters.athena.AthenaQueryEngine`) works against
it. It answers ``StartQueryExecution``, ``GetQueryExecution``, ``GetQueryResults``,
``StopQueryExecution`` and ``GetWorkGroup``, in Athena's REST-JSON protocol (what botocore's
current model speaks) and in its JSON 1.1 protocol (``X-Amz-Target: AmazonAthena.<Operation>``).
The lake lives in S3 and the tables in the Glue catalog of one moto server (the local stack's,
where Terraform created them); queries run in the
existing local engine (:class:`glucosestream.local.athena.LocalAthena`: the same sqlglot
transpilation of Athena SQL to DuckDB, the same UNLOAD parser, the same binding of lake tables to
Parquet files), so there is no second transpiler.

It accepts only what Athena accepts:

* the workgroup must exist (asked of moto's Athena, where Terraform created it); its result
  configuration is used, and when it is enforced the request's own is ignored; a query that
  scans more than its ``BytesScannedCutoffPerQuery`` fails;
* the number of ``ExecutionParameters`` must equal the number of ``?`` placeholders; each is an
  SQL literal (or a constant expression), substituted as Athena substitutes it: a string value
  needs its quotes, ``2026-02-01`` unquoted is arithmetic;
* ``UNLOAD … TO 's3://…'`` needs an empty target prefix; the output bucket must exist;
* an unknown database or table fails the query with Athena's error name and text; only SELECT
  (with CTEs, joins, window functions: whatever DuckDB runs) and UNLOAD are executed, anything
  else fails as NOT_SUPPORTED;
* states go QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED (queries run on worker threads;
  ``StopQueryExecution`` interrupts DuckDB); ``GetQueryResults`` pages at most 1,000 rows, the
  first row of the first page being the header, cells as Athena formats them (NULL: no
  ``VarCharValue``); the results are also written as Athena's CSV file to
  ``<output location><query id>.csv`` (an UNLOAD's manifest to ``<id>-manifest.csv``).

How a query reads the lake: each table it names is read from Glue (``get_table``: columns,
partition keys, ``StorageDescriptor.Location``, ``projection.*`` parameters). With partition
projection, the objects under the location's Hive-layout prefixes (``k1=v1/k2=v2/``) are listed
— only the prefixes of the first key's values the query's predicate names, when it names them, as
projection prunes on Athena; values outside the projection's range are not read. Without
projection, the partitions registered in Glue (``get_partitions``) are read, each from its own
location. Objects whose key has a part starting with ``.`` or ``_`` are skipped (Athena ignores
them). The objects are downloaded into a private cache keyed by ETag and hard-linked into a
per-query Hive-layout directory the local engine reads. ``DataScannedInBytes`` is the size of
the objects read (Athena counts only the columns it reads: this is an upper bound).

Gaps in moto (5.x) worked around here:

* moto's Athena does not execute SQL (``StartQueryExecution`` returns canned rows): this endpoint
  executes it; moto's Athena serves only as the store of workgroups.
* moto routes Athena only at its old JSON 1.1 path while botocore's Athena model is now
  REST-JSON, so every Athena call to moto 404s: moto must be started through
  :mod:`glucosestream.local.moto_server`, which adds the REST-JSON routes. This endpoint speaks
  both protocols (boto3 sends REST-JSON; older SDKs send JSON 1.1 with ``X-Amz-Target``).
* moto's ``GetWorkGroup`` answers ``{"WorkGroup": null}`` for a workgroup that does not exist
  instead of Athena's ``InvalidRequestException``: null is read as "not found".
* moto's Glue keeps ``projection.*`` table parameters but projects nothing: projection (date,
  integer, enum and injected types; Hive-layout locations only, no
  ``storage.location.template``) is applied here by listing S3 prefixes.
* DuckDB's httpfs extension cannot be downloaded here, so DuckDB cannot read ``s3://`` itself:
  objects are fetched with boto3 from moto's S3 into the cache.
* moto stores a workgroup's KMS result encryption but this endpoint writes the result files
  without it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlglot
from botocore.exceptions import ClientError
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from glucosestream.adapters.clients import endpoint_client
from glucosestream.lake.storage import visible_to_queries
from glucosestream.local.athena import (
    DEFAULT_ENGINE_MEMORY,
    LakeTable,
    LocalAthena,
    SqlError,
    _projected_values,
    engine_connection,
    parse_unload,
)
from glucosestream.settings import load_settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

MAX_PAGE_ROWS = 1000
DEFAULT_WORKGROUP = "primary"
DEFAULT_DATABASE = "default"
_JSON = "application/x-amz-json-1.1"


class ApiError(Exception):
    """A request Athena refuses (HTTP 400 with the error code), before any query runs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class QueryError(Exception):
    """A query that ends FAILED: Athena's error name and message (its StateChangeReason)."""

    def __init__(self, name: str, message: str, *, category: int = 2) -> None:
        super().__init__(f"{name}: {message}")
        self.reason = f"{name}: {message}"
        self.category = category
        """Athena's ErrorCategory: 1 system, 2 user, 3 other."""


# -------------------------------------------------------------------------- query executions


@dataclass
class Execution:
    """One query execution, as GetQueryExecution describes it."""

    query_id: str
    query: str
    database: str
    workgroup: str
    output_location: str
    parameters: tuple[str, ...]
    bytes_scanned_cutoff: int | None
    submitted: float = field(default_factory=time.time)
    state: str = "QUEUED"
    reason: str | None = None
    error_category: int | None = None
    started: float | None = None
    completed: float | None = None
    data_scanned: int = 0
    statement_type: str = "DML"
    substatement_type: str = "SELECT"
    header: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    connection: Any = None
    """The running query's DuckDB connection (StopQueryExecution interrupts it)."""

    @property
    def result_file(self) -> str:
        suffix = "-manifest.csv" if self.substatement_type == "UNLOAD" else ".csv"
        return f"{self.output_location}{self.query_id}{suffix}"

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason is not None:
            status["StateChangeReason"] = self.reason
        if self.error_category is not None:
            status["AthenaError"] = {
                "ErrorCategory": self.error_category,
                "Retryable": False,
                "ErrorMessage": self.reason,
            }
        end = self.completed or time.time()
        queued_until = self.started or end
        statistics = {
            "DataScannedInBytes": self.data_scanned,
            "EngineExecutionTimeInMillis": _millis(end - queued_until),
            "QueryQueueTimeInMillis": _millis(queued_until - self.submitted),
            "TotalExecutionTimeInMillis": _millis(end - self.submitted),
        }
        described: dict[str, Any] = {
            "QueryExecutionId": self.query_id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "SubstatementType": self.substatement_type,
            "ResultConfiguration": {"OutputLocation": self.result_file},
            "QueryExecutionContext": {"Database": self.database, "Catalog": "awsdatacatalog"},
            "Status": status,
            "Statistics": statistics,
            "WorkGroup": self.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "Athena engine version 3",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
        }
        if self.parameters:
            described["ExecutionParameters"] = list(self.parameters)
        return described


def _millis(seconds: float) -> int:
    return max(0, round(seconds * 1000))


# --------------------------------------------------------------------------- SQL handling


def bind_parameters(sql: str, parameters: Sequence[str]) -> str:
    """The statement with each ``?`` replaced by its execution parameter, as Athena does.

    The count must match (Athena's message otherwise); each parameter must be one constant
    expression (a literal such as ``'text'``, ``42``, ``DATE '2026-02-01'``).
    """
    # sqlglot keeps UNLOAD as a command whose text it does not tokenize: tokenize after it.
    command = re.match(r"^\s*UNLOAD\b", sql, re.IGNORECASE)
    skipped = command.end() if command else 0
    try:
        tokens = sqlglot.Dialect.get_or_raise("athena").tokenize(sql[skipped:])
    except TokenError as error:
        raise QueryError("SYNTAX_ERROR", str(error)) from None
    placeholders = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if len(placeholders) != len(parameters):
        raise QueryError(
            "INVALID_PARAMETER_USAGE",
            f"line 1:1: Incorrect number of parameters: expected {len(placeholders)} "
            f"but found {len(parameters)}",
        )
    bound = sql
    for number, (token, value) in reversed(
        list(enumerate(zip(placeholders, parameters, strict=True), 1))
    ):
        start, end = skipped + token.start, skipped + token.end + 1
        bound = bound[:start] + _parameter_text(number, value) + bound[end:]
    return bound


_LITERALS = (exp.Literal, exp.Boolean, exp.Null)


def _parameter_text(number: int, value: str) -> str:
    try:
        parsed = sqlglot.parse_one(value, read="athena")
    except (ParseError, TokenError) as error:
        raise QueryError("SYNTAX_ERROR", f"execution parameter {number}: {error}") from None
    if parsed.find(exp.Column, exp.Star, exp.Query, exp.Table, exp.Placeholder) is not None:
        raise QueryError(
            "INVALID_PARAMETER_USAGE",
            f"execution parameter {number} ({value!r}) is not a constant expression",
        )
    simple = isinstance(parsed, _LITERALS) or (
        isinstance(parsed, exp.Cast | exp.Neg) and isinstance(parsed.this, exp.Literal)
    )
    return value if simple else f"({value})"


def _parse(sql: str) -> tuple[exp.Query, Any]:
    """The statement's query, and its UNLOAD (or None for a plain query)."""
    keyword = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if keyword == "UNLOAD":
        try:
            unload = parse_unload(sql)
        except SqlError as error:
            unsupported = "only" in str(error) or "unsupported" in str(error)
            raise QueryError(
                "NOT_SUPPORTED" if unsupported else "SYNTAX_ERROR", str(error)
            ) from None
        except (ParseError, TokenError) as error:
            raise QueryError("SYNTAX_ERROR", _parse_message(error)) from None
        return unload.query, unload
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except (ParseError, TokenError) as error:
        raise QueryError("SYNTAX_ERROR", _parse_message(error)) from None
    if len(statements) != 1:
        raise QueryError("SYNTAX_ERROR", "line 1:1: only one statement per query execution")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise QueryError(
            "NOT_SUPPORTED",
            f"the local Athena API runs SELECT and UNLOAD statements, not {keyword or 'this'}",
        )
    return statement, None


def _parse_message(error: ParseError | TokenError) -> str:
    details = error.errors[0] if isinstance(error, ParseError) and error.errors else {}
    if details:
        where = f"line {details.get('line', 1)}:{details.get('col', 1)}"
        text = f"{where}: {details.get('description', 'syntax error')}"
        highlight = details.get("highlight")
        return f"{text} at '{highlight}'" if highlight else text
    return str(error)


def _statement_type(sql: str) -> tuple[str, str]:
    keyword = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SELECT"
    if keyword in {"CREATE", "ALTER", "DROP", "MSCK", "REPAIR"}:
        return "DDL", keyword
    if keyword in {"SHOW", "DESCRIBE", "EXPLAIN"}:
        return "UTILITY", keyword
    if keyword in {"UNLOAD", "INSERT", "MERGE", "UPDATE", "DELETE"}:
        return "DML", keyword
    return "DML", "SELECT"


_DUCKDB_ERRORS = (
    ("Binder Error: Referenced column", "COLUMN_NOT_FOUND"),
    ("Binder Error: No function matches", "FUNCTION_NOT_FOUND"),
    ("Binder Error", "SEMANTIC_ERROR"),
    ("Conversion Error", "INVALID_CAST_ARGUMENT"),
    ("Parser Error", "SYNTAX_ERROR"),
    ("Catalog Error", "TABLE_NOT_FOUND"),
    ("Out of Range Error", "NUMERIC_VALUE_OUT_OF_RANGE"),
    ("Invalid Input Error", "INVALID_FUNCTION_ARGUMENT"),
)


def _engine_error(error: SqlError) -> QueryError:
    message = str(error).split(": ", 1)[1] if ": " in str(error) else str(error)
    for prefix, name in _DUCKDB_ERRORS:
        if message.startswith(prefix):
            return QueryError(name, message.splitlines()[0])
    return QueryError("GENERIC_USER_ERROR", message.splitlines()[0])


def _tables(query: exp.Query, default_database: str) -> list[tuple[str, str, exp.Table]]:
    """(database, table, node) of each lake table the query reads (not its CTEs)."""
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    found = []
    for table in query.find_all(exp.Table):
        if not table.name or (not table.db and table.name in ctes):
            continue
        if table.catalog and table.catalog.lower() != "awsdatacatalog":
            raise QueryError("CATALOG_NOT_FOUND", f"Catalog '{table.catalog}' does not exist")
        found.append((table.db or default_database, table.name, table))
    return found


def _position(table: exp.Table) -> str:
    """``line L:C`` where the table's (qualified) name starts, as Trino reports it."""
    first = table.args.get("db") or table.this
    meta = first.meta if isinstance(first, exp.Expression) else {}
    if not meta:
        return "line 1:1"
    # sqlglot records the column of the name's last character and its character span.
    column = meta.get("col", 1) - (meta.get("end", 0) - meta.get("start", 0))
    return f"line {meta.get('line', 1)}:{max(column, 1)}"


# ---------------------------------------------------------------------------- S3 and Glue


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix)."""
    match = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    if not match:
        raise QueryError("INVALID_TABLE_PROPERTY", f"{uri!r} is not an s3:// location")
    return match.group(1), match.group(2)


@dataclass(frozen=True, slots=True)
class StoredObject:
    bucket: str
    key: str
    etag: str
    size: int


class ObjectCache:
    """Objects of moto's S3, downloaded once per ETag into a private directory."""

    def __init__(self, s3: Any, directory: Path) -> None:
        self.s3 = s3
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def listing(self, bucket: str, prefix: str) -> Iterator[StoredObject]:
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield StoredObject(bucket, item["Key"], item["ETag"].strip('"'), item["Size"])
        except ClientError as error:
            raise _s3_error(error, bucket, prefix) from None

    def is_empty(self, bucket: str, prefix: str) -> bool:
        try:
            listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except ClientError as error:
            raise _s3_error(error, bucket, prefix) from None
        return not listed.get("Contents")

    def fetch(self, stored: StoredObject) -> Path:
        digest = hashlib.sha256(f"{stored.bucket}/{stored.key}".encode()).hexdigest()[:24]
        path = self.directory / f"{digest}-{stored.etag.replace('-', '_')}.parquet"
        if path.exists():
            return path
        partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
        try:
            self.s3.download_file(stored.bucket, stored.key, str(partial))
            partial.replace(path)  # whole files only: concurrent queries may fetch the same one
        except ClientError as error:
            raise _s3_error(error, stored.bucket, stored.key) from None
        finally:
            partial.unlink(missing_ok=True)
        return path

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError:
            return False
        return True

    def put(self, bucket: str, key: str, body: bytes) -> None:
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        except ClientError as error:
            raise _s3_error(error, bucket, key) from None

    def upload_tree(self, directory: Path, bucket: str, prefix: str) -> list[str]:
        """Upload every file under ``directory`` to ``prefix`` + its relative path."""
        written = []
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(directory).as_posix()
            try:
                self.s3.upload_file(str(path), bucket, key)
            except ClientError as error:
                raise _s3_error(error, bucket, key) from None
            written.append(f"s3://{bucket}/{key}")
        return written


def _s3_error(error: ClientError, bucket: str, key: str) -> QueryError:
    code = error.response.get("Error", {}).get("Code", "")
    if code in {"AccessDenied", "403"}:
        return QueryError("PERMISSION_DENIED", f"Access denied on S3 path: s3://{bucket}/{key}")
    if code in {"NoSuchBucket", "404"}:
        return QueryError("HIVE_PATH_ERROR", f"the bucket of s3://{bucket}/{key} does not exist")
    return QueryError("HIVE_CANNOT_OPEN_SPLIT", f"s3://{bucket}/{key}: {code}", category=1)


@dataclass(frozen=True, slots=True)
class CatalogTable:
    """A Glue table as a query reads it."""

    database: str
    name: str
    columns: tuple[tuple[str, str], ...]
    """(name, Glue/Hive type)."""
    partition_keys: tuple[tuple[str, str], ...]
    location: str
    parameters: Mapping[str, str]

    @property
    def projected(self) -> bool:
        return self.parameters.get("projection.enabled", "false").lower() == "true"

    def lake_table(self, directory: Path) -> LakeTable:
        """The local engine's view of it, over a Hive-layout directory."""
        return LakeTable(
            self.name,
            directory,
            tuple((name, _duckdb_type(kind)) for name, kind in self.columns),
            tuple((name, _duckdb_type(kind)) for name, kind in self.partition_keys),
        )


def _duckdb_type(glue_type: str) -> str:
    try:
        return exp.DataType.build(glue_type, dialect="hive").sql("duckdb")
    except (ParseError, TokenError, ValueError):
        raise QueryError("HIVE_INVALID_METADATA", f"unsupported column type {glue_type}") from None


def catalog_table(glue: Any, database: str, name: str, where: str) -> CatalogTable:
    """Glue's definition of ``database.name``; Athena's errors when either is missing."""
    try:
        glue.get_database(Name=database)
    except ClientError as error:
        if error.response["Error"]["Code"] == "EntityNotFoundException":
            raise QueryError(
                "SCHEMA_NOT_FOUND", f"{where}: Schema '{database}' does not exist"
            ) from None
        raise
    try:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "EntityNotFoundException":
            raise QueryError(
                "TABLE_NOT_FOUND",
                f"{where}: Table 'awsdatacatalog.{database}.{name}' does not exist",
            ) from None
        raise
    descriptor = table.get("StorageDescriptor", {})
    location = descriptor.get("Location", "")
    if not location:
        raise QueryError("HIVE_METASTORE_ERROR", f"table {database}.{name} has no location")
    return CatalogTable(
        database,
        name,
        tuple((c["Name"].lower(), c["Type"]) for c in descriptor.get("Columns", [])),
        tuple((c["Name"].lower(), c["Type"]) for c in table.get("PartitionKeys", [])),
        location if location.endswith("/") else location + "/",
        dict(table.get("Parameters", {})),
    )


def projection_accepts(parameters: Mapping[str, str], key: str, value: str, today: date) -> bool:
    """Whether partition projection of ``key`` yields ``value`` (so Athena reads it)."""
    kind = parameters.get(f"projection.{key}.type", "").lower()
    if kind == "injected" or not kind:
        return True
    if kind == "enum":
        return value in parameters.get(f"projection.{key}.values", "").split(",")
    if kind == "integer":
        digits = int(parameters.get(f"projection.{key}.digits", "0") or 0)
        if not value.isdigit() or (digits and len(value) != digits):
            return False
        low, _, high = parameters.get(f"projection.{key}.range", "").partition(",")
        return low == "" or int(low) <= int(value) <= int(high)
    if kind == "date":
        pattern = parameters.get(f"projection.{key}.format", "yyyy-MM-dd")
        python_format = pattern.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
        try:
            day = datetime.strptime(value, python_format).date()
        except ValueError:
            return False
        if day.strftime(python_format) != value:
            return False
        low, _, high = parameters.get(f"projection.{key}.range", "").partition(",")
        return (
            _projection_day(low, python_format, today)
            <= day
            <= _projection_day(high, python_format, today)
        )
    return True


def _projection_day(text: str, python_format: str, today: date) -> date:
    text = text.strip()
    relative = re.match(r"^NOW\s*(?:([+-])\s*(\d+)\s*DAYS?)?$", text, re.IGNORECASE)
    if relative:
        sign, amount = relative.groups()
        days = int(amount or 0) * (-1 if sign == "-" else 1)
        return today + timedelta(days=days)
    return datetime.strptime(text, python_format).date()


# ------------------------------------------------------------------------------ values out

_ATHENA_TYPES: tuple[tuple[Callable[[pa.DataType], bool], str], ...] = (
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_int8, "tinyint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_integer, "bigint"),
    (pa.types.is_float32, "float"),
    (pa.types.is_floating, "double"),
    (pa.types.is_decimal, "decimal"),
    (pa.types.is_date, "date"),
    (pa.types.is_timestamp, "timestamp"),
    (pa.types.is_string, "varchar"),
    (pa.types.is_large_string, "varchar"),
    (pa.types.is_binary, "varbinary"),
    (pa.types.is_list, "array"),
    (pa.types.is_struct, "row"),
    (pa.types.is_map, "map"),
)


def athena_type(arrow_type: pa.DataType) -> str:
    """The type name Athena's ColumnInfo gives a column of this Arrow type."""
    for matches, name in _ATHENA_TYPES:
        if matches(arrow_type):
            if name == "timestamp" and getattr(arrow_type, "tz", None):
                return "timestamp with time zone"
            return name
    return "varchar"


def athena_text(value: Any) -> str | None:
    """A value as Athena renders it in GetQueryResults' ``VarCharValue`` (None for NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, datetime):
        stamp: datetime = value
        zone = ""
        if stamp.tzinfo is not None:
            stamp, zone = stamp.astimezone(UTC).replace(tzinfo=None), " UTC"
        return stamp.isoformat(sep=" ", timespec="milliseconds") + zone
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex(" ")
    if isinstance(value, list):
        return "[" + ", ".join(str(athena_text(v)) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={athena_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _csv(header: Sequence[str], rows: Sequence[Sequence[str | None]]) -> bytes:
    """Athena's result file: every value double-quoted, NULL as nothing."""

    def line(values: Sequence[str | None]) -> str:
        return ",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in values)

    out = io.StringIO()
    for values in [header, *rows]:
        out.write(line(values) + "\n")
    return out.getvalue().encode()


# ------------------------------------------------------------------------------ the runner


class QueryRunner:
    """Runs one execution: Glue tables → cached Parquet → the local engine → S3 outputs."""

    def __init__(
        self,
        glue: Any,
        objects: ObjectCache,
        scratch: Path,
        memory_limit: str = DEFAULT_ENGINE_MEMORY,
    ) -> None:
        self.glue = glue
        self.objects = objects
        self.scratch = scratch
        self.memory_limit = memory_limit

    def run(self, execution: Execution) -> None:
        sql = bind_parameters(execution.query, execution.parameters)
        query, unload = _parse(sql)
        output_bucket, output_prefix = split_s3(execution.output_location)
        if not self.objects.bucket_exists(output_bucket):
            raise QueryError(
                "HIVE_PATH_ERROR", f"Unable to verify/create output bucket {output_bucket}"
            )
        workdir = self.scratch / execution.query_id
        try:
            engines = self._bind(execution, query, workdir)
            if execution.bytes_scanned_cutoff and (
                execution.data_scanned > execution.bytes_scanned_cutoff
            ):
                raise QueryError("EXCEEDED_BYTES_SCANNED_LIMIT", "Bytes scanned limit was exceeded")
            main = engines[execution.database]
            if unload is not None:
                self._unload(execution, main, query, unload, workdir)
            else:
                self._select(execution, main, query)
            header = [column["Name"] for column in execution.header]
            if unload is None:
                self.objects.put(
                    output_bucket,
                    f"{output_prefix}{execution.query_id}.csv",
                    _csv(header, execution.rows),
                )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _bind(
        self, execution: Execution, query: exp.Query, workdir: Path
    ) -> dict[str, LocalAthena]:
        connection = engine_connection(self.memory_limit)
        execution.connection = connection
        engines = {execution.database: LocalAthena(execution.database, connection)}
        tables = _tables(query, execution.database)
        for database, name, node in tables:
            if database not in engines:
                engines[database] = LocalAthena(database, connection)
            where = _position(node)
            node.set("db", exp.to_identifier(database))
            if name in engines[database].lake_tables:
                continue
            table = catalog_table(self.glue, database, name, where)
            restrict = None
            if len({(d, n) for d, n, _ in tables}) == 1 and table.partition_keys:
                restrict = _projected_values(_dates_as_text(query), table.partition_keys[0][0], [])
            directory = workdir / database / name
            directory.mkdir(parents=True, exist_ok=True)
            execution.data_scanned += self._materialise(table, restrict, directory)
            engines[database].lake_tables[name] = table.lake_table(directory)
        for database, engine in engines.items():
            if database != execution.database:
                for name in engine.lake_tables:
                    engine.bind_projected(name, None)
        return engines

    def _materialise(
        self, table: CatalogTable, restrict: Sequence[str] | None, directory: Path
    ) -> int:
        """Fetch the objects the query reads into ``directory`` (Hive layout); their bytes."""
        keys = [name for name, _ in table.partition_keys]
        scanned = 0
        for values, stored_objects in self._partition_objects(table, restrict):
            target = directory.joinpath(*(f"{k}={v}" for k, v in zip(keys, values, strict=True)))
            for number, stored in enumerate(stored_objects):
                cached = self.objects.fetch(stored)
                target.mkdir(parents=True, exist_ok=True)
                link = target / f"{number:05d}.parquet"
                try:
                    os.link(cached, link)
                except OSError:
                    shutil.copyfile(cached, link)
                scanned += stored.size
        return scanned

    def _partition_objects(
        self, table: CatalogTable, restrict: Sequence[str] | None
    ) -> Iterator[tuple[tuple[str, ...], list[StoredObject]]]:
        """(partition values, its objects) of each partition the query reads."""
        if not table.partition_keys:
            yield (), self._visible_objects(table.location)
            return
        keys = [name for name, _ in table.partition_keys]
        wanted = set(restrict) if restrict is not None else None
        if not table.projected:
            paginator = self.glue.get_paginator("get_partitions")
            pages = paginator.paginate(DatabaseName=table.database, TableName=table.name)
            for page in pages:
                for partition in page.get("Partitions", []):
                    values = tuple(partition["Values"])
                    if wanted is None or values[0] in wanted:
                        location = partition.get("StorageDescriptor", {}).get("Location", "")
                        yield values, self._visible_objects(location)
            return
        bucket, prefix = split_s3(table.location)
        today = datetime.now(tz=UTC).date()
        listed = (
            [f"{prefix}{keys[0]}={value}/" for value in sorted(wanted)]
            if wanted is not None
            else [prefix]
        )
        found: dict[tuple[str, ...], list[StoredObject]] = {}
        for listed_prefix in listed:
            for stored in self.objects.listing(bucket, listed_prefix):
                parts = stored.key[len(prefix) :].split("/")
                if len(parts) <= len(keys) or not visible_to_queries(
                    parts[len(keys) :], stored.size
                ):
                    continue
                pairs = [part.partition("=") for part in parts[: len(keys)]]
                values = tuple(value for _, _, value in pairs)
                if [name for name, _, _ in pairs] == keys and all(
                    projection_accepts(table.parameters, k, v, today)
                    for k, v in zip(keys, values, strict=True)
                ):
                    found.setdefault(values, []).append(stored)
        yield from sorted(found.items())

    def _visible_objects(self, location: str) -> list[StoredObject]:
        if not location.endswith("/"):
            location += "/"
        bucket, prefix = split_s3(location)
        return [
            stored
            for stored in self.objects.listing(bucket, prefix)
            if visible_to_queries(stored.key[len(prefix) :].split("/"), stored.size)
        ]

    def _select(self, execution: Execution, engine: LocalAthena, query: exp.Query) -> None:
        try:
            response = engine.start_query_execution(
                query.sql("athena"), (), location_of=_no_location
            )
        except SqlError as error:
            raise _engine_error(error) from None
        result = engine.results.pop(response["QueryExecution"]["QueryExecutionId"])
        execution.header = [
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": column.name,
                "Label": column.name,
                "Type": athena_type(column.type),
                "Precision": getattr(column.type, "precision", 0),
                "Scale": getattr(column.type, "scale", 0),
                "Nullable": "UNKNOWN",
                "CaseSensitive": athena_type(column.type) == "varchar",
            }
            for column in result.schema
        ]
        columns = [column.to_pylist() for column in result.columns]
        execution.rows = [
            [athena_text(value) for value in row] for row in zip(*columns, strict=True)
        ]

    def _unload(
        self,
        execution: Execution,
        engine: LocalAthena,
        query: exp.Query,
        unload: Any,
        workdir: Path,
    ) -> None:
        bucket, prefix = split_s3(unload.location)
        if not self.objects.is_empty(bucket, prefix):
            raise QueryError(
                "HIVE_PATH_ALREADY_EXISTS",
                f"Target directory for UNLOAD already exists: {unload.location}. You may need "
                "to manually clean the data at location "
                f"'{unload.location}' before retrying. Athena will not delete data in your "
                "account.",
            )
        partitioned = (
            f", partitioned_by = ARRAY[{', '.join(repr(k) for k in unload.partitioned_by)}]"
            if unload.partitioned_by
            else ""
        )
        statement = (
            f"UNLOAD ({query.sql('athena')}) TO '{unload.location}' WITH (format = "
            f"'{unload.format}', compression = '{unload.compression}'{partitioned})"
        )
        output = workdir / "unload" / execution.query_id
        try:
            engine.start_query_execution(statement, (), location_of=lambda _: output)
        except SqlError as error:
            raise _engine_error(error) from None
        written = self.objects.upload_tree(output, bucket, prefix) if output.is_dir() else []
        output_bucket, output_prefix = split_s3(execution.output_location)
        self.objects.put(
            output_bucket,
            f"{output_prefix}{execution.query_id}-manifest.csv",
            "".join(f"{uri}\n" for uri in written).encode(),
        )


def _dates_as_text(query: exp.Query) -> exp.Query:
    """The query with ``DATE '…'`` literals as plain strings: the text of a date partition's
    directory, so a predicate on a DATE partition key prunes as one on a string key does."""

    def uncast(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Cast)
            and isinstance(node.this, exp.Literal)
            and node.this.is_string
            and node.to.is_type(exp.DataType.Type.DATE)
        ):
            return node.this.copy()
        return node

    transformed = query.copy().transform(uncast)
    assert isinstance(transformed, exp.Query)
    return transformed


def _no_location(uri: str) -> Path:
    raise SqlError(f"a SELECT writes nowhere (asked for {uri})")


# ------------------------------------------------------------------------------ the server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class LocalAthenaApi:
    """The endpoint: ``with LocalAthenaApi(moto_endpoint) as api: …api.endpoint…``.

    Parameters
    ----------
    moto_endpoint
        The moto server holding the lake's S3 bucket, the Glue catalog and the workgroups.
    host, port
        Where to listen (loopback only; port 0 picks a free one).
    region
        The region of the moto resources.
    cache_dir
        Where downloaded objects are kept (a private temporary directory by default, removed
        on stop).
    workers
        Queries run at once; more wait QUEUED.
    max_active
        Queued plus running queries beyond which StartQueryExecution is throttled
        (``TooManyRequestsException``), as Athena's concurrency quota does.
    """

    def __init__(
        self,
        moto_endpoint: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        cache_dir: Path | None = None,
        workers: int = 2,
        max_active: int = 25,
        memory_limit: str = DEFAULT_ENGINE_MEMORY,
    ) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError(f"the local Athena API listens on loopback only, not {host}")
        self.moto_endpoint = moto_endpoint
        self.host = host
        self.port = port
        self.max_active = max_active
        self._own_cache = cache_dir is None
        self.cache_dir = cache_dir or Path(tempfile.mkdtemp(prefix="gs-athena-api-"))
        self._athena = endpoint_client("athena", moto_endpoint, region)
        self._glue = endpoint_client("glue", moto_endpoint, region)
        self._s3 = endpoint_client("s3", moto_endpoint, region)
        self._runner = QueryRunner(
            self._glue,
            ObjectCache(self._s3, self.cache_dir / "objects"),
            self.cache_dir / "queries",
            memory_limit,
        )
        self._executions: dict[str, Execution] = {}
        self._tokens: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = Map(
            [
                Rule("/query-executions", methods=["POST"], endpoint="StartQueryExecution"),
                Rule(
                    "/query-executions/<QueryExecutionId>",
                    methods=["GET"],
                    endpoint="GetQueryExecution",
                ),
                Rule(
                    "/query-executions/<QueryExecutionId>/results",
                    methods=["GET"],
                    endpoint="GetQueryResults",
                ),
                Rule(
                    "/query-executions/<QueryExecutionId>/stop",
                    methods=["POST"],
                    endpoint="StopQueryExecution",
                ),
                Rule("/workgroups/<WorkGroup>", methods=["GET"], endpoint="GetWorkGroup"),
            ]
        )
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "StartQueryExecution": self.start_query_execution,
            "GetQueryExecution": self.get_query_execution,
            "GetQueryResults": self.get_query_results,
            "StopQueryExecution": self.stop_query_execution,
            "GetWorkGroup": self.get_work_group,
        }

    # --------------------------------------------------------------------------- lifecycle

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the local Athena API is not started")
        return f"http://{self.host}:{self._server.port}"

    def start(self) -> LocalAthenaApi:
        if self._server is not None:
            return self
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="athena-query")
        self._server = make_server(
            self.host, self.port, self._application, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="athena-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            running = [e for e in self._executions.values() if e.state in {"QUEUED", "RUNNING"}]
        for execution in running:
            self._cancel(execution, "the local Athena API stopped")
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._own_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def __enter__(self) -> LocalAthenaApi:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------ HTTP

    def _application(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            operation, body = self._operation(request)
            answer = self._handlers[operation](body)
            status = 200
        except ApiError as error:
            answer = {"__type": error.code, "Message": error.message}
            status = 400
        except Exception as error:  # a bug here must answer as Athena would, not with HTML
            log.exception("%s %s", request.method, request.path)
            answer = {"__type": "InternalServerException", "Message": str(error)}
            status = 500
        response = Response(json.dumps(answer), status=status, content_type=_JSON)
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        if status != 200:
            response.headers["x-amzn-ErrorType"] = answer["__type"]
        return response(environ, start_response)

    def _operation(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The operation a request asks for and its input, in either of Athena's protocols:
        JSON 1.1 (``X-Amz-Target: AmazonAthena.<Operation>``, input in the body) or REST-JSON
        (the method and path name the operation; input in the path, query string and body)."""
        try:
            body = json.loads(request.get_data() or b"{}")
        except json.JSONDecodeError:
            raise ApiError("SerializationException", "the request body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError("SerializationException", "the request body is not a JSON object")
        target = request.headers.get("X-Amz-Target")
        if target is not None:
            service, _, operation = target.partition(".")
            if service != "AmazonAthena" or operation not in self._handlers:
                raise ApiError("UnknownOperationException", f"unsupported operation {target!r}")
            return operation, body
        try:
            operation, arguments = self._routes.bind_to_environ(request.environ).match(
                method=request.method
            )
        except HTTPException:
            raise ApiError(
                "UnknownOperationException", f"unsupported {request.method} {request.path}"
            ) from None
        for name in ("NextToken", "MaxResults"):
            if name in request.args:
                body[name] = request.args[name]
        return str(operation), {**body, **arguments}

    # ----------------------------------------------------------------------- operations

    def get_work_group(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = _required(body, "WorkGroup")
        return {"WorkGroup": self._work_group(name)}

    def _work_group(self, name: str) -> dict[str, Any]:
        found = self._athena.get_work_group(WorkGroup=name).get("WorkGroup")
        if not found:  # moto answers null rather than Athena's error
            raise ApiError("InvalidRequestException", f"WorkGroup {name} is not found.")
        if found.get("State", "ENABLED") != "ENABLED":
            raise ApiError("InvalidRequestException", f"WorkGroup {name} is disabled.")
        if isinstance(found.get("CreationTime"), datetime):
            found["CreationTime"] = found["CreationTime"].timestamp()
        return dict(found)

    def start_query_execution(self, body: Mapping[str, Any]) -> dict[str, Any]:
        query = _required(body, "QueryString")
        if not 1 <= len(query) <= 262144:
            raise ApiError("InvalidRequestException", "QueryString must be 1-262144 characters")
        parameters = tuple(body.get("ExecutionParameters") or ())
        if any(not isinstance(p, str) or not 1 <= len(p) <= 1024 for p in parameters):
            raise ApiError(
                "InvalidRequestException", "each ExecutionParameters value is 1-1024 characters"
            )
        token = body.get("ClientRequestToken")
        fingerprint = json.dumps(
            [query, parameters, body.get("WorkGroup"), body.get("QueryExecutionContext")]
        )
        with self._lock:
            if token and token in self._tokens:
                known_id, known = self._tokens[token]
                if known != fingerprint:
                    raise ApiError("InvalidRequestException", "Idempotent parameters do not match")
                return {"QueryExecutionId": known_id}
        name = body.get("WorkGroup") or DEFAULT_WORKGROUP
        configuration = self._work_group(name).get("Configuration", {})
        enforced = bool(configuration.get("EnforceWorkGroupConfiguration"))
        group_output = configuration.get("ResultConfiguration", {}).get("OutputLocation")
        asked_output = (body.get("ResultConfiguration") or {}).get("OutputLocation")
        output = group_output if enforced or not asked_output else asked_output
        if not output:
            raise ApiError(
                "InvalidRequestException",
                "No output location provided. An output location is required either through "
                "the Workgroup result configuration setting or as an API input.",
            )
        if not output.startswith("s3://"):
            raise ApiError("InvalidRequestException", f"{output} is not an s3:// location")
        context = body.get("QueryExecutionContext") or {}
        cutoff = configuration.get("BytesScannedCutoffPerQuery")
        statement_type, substatement = _statement_type(query)
        execution = Execution(
            query_id=str(uuid.uuid4()),
            query=query,
            database=str(context.get("Database") or DEFAULT_DATABASE).lower(),
            workgroup=name,
            output_location=output if output.endswith("/") else output + "/",
            parameters=parameters,
            bytes_scanned_cutoff=int(cutoff) if cutoff else None,
            statement_type=statement_type,
            substatement_type=substatement,
        )
        with self._lock:
            active = sum(e.state in {"QUEUED", "RUNNING"} for e in self._executions.values())
            if active >= self.max_active:
                raise ApiError(
                    "TooManyRequestsException",
                    "You have exceeded the limit for the number of queries you can run "
                    "concurrently. Reduce the number of concurrent queries submitted by this "
                    "account.",
                )
            self._executions[execution.query_id] = execution
            if token:
                self._tokens[token] = (execution.query_id, fingerprint)
        if self._pool is None:
            raise ApiError("InternalServerException", "the local Athena API is not started")
        self._pool.submit(self._work, execution)
        return {"QueryExecutionId": execution.query_id}

    def get_query_execution(self, body: Mapping[str, Any]) -> dict[str, Any]:
        execution = self._execution(body)
        with self._lock:
            return {"QueryExecution": execution.describe()}

    def get_query_results(self, body: Mapping[str, Any]) -> dict[str, Any]:
        execution = self._execution(body)
        if execution.state in {"QUEUED", "RUNNING"}:
            raise ApiError(
                "InvalidRequestException",
                f"Query has not yet finished. Current state: {execution.state}",
            )
        if execution.state != "SUCCEEDED":
            raise ApiError(
                "InvalidRequestException",
                f"Query did not finish successfully. Final query state: {execution.state}\n"
                f"{execution.reason}",
            )
        size = int(body.get("MaxResults") or MAX_PAGE_ROWS)
        if not 1 <= size <= MAX_PAGE_ROWS:
            raise ApiError("InvalidRequestException", "MaxResults must be 1-1000")
        offset = _offset(body.get("NextToken"), execution.query_id)
        if execution.header:
            names = [column["Name"] for column in execution.header]
            rows: list[list[str | None]] = [list(names), *execution.rows]
        else:
            rows = []
        page = rows[offset : offset + size]
        answer: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                    for row in page
                ],
                "ResultSetMetadata": {"ColumnInfo": execution.header},
            },
        }
        if offset + size < len(rows):
            answer["NextToken"] = f"{execution.query_id}:{offset + size}"
        return answer

    def stop_query_execution(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._cancel(self._execution(body), "Query cancelled by user")
        return {}

    # --------------------------------------------------------------------------- helpers

    def _execution(self, body: Mapping[str, Any]) -> Execution:
        query_id = _required(body, "QueryExecutionId")
        with self._lock:
            execution = self._executions.get(query_id)
        if execution is None:
            raise ApiError("InvalidRequestException", f"QueryExecution {query_id} was not found")
        return execution

    def _cancel(self, execution: Execution, reason: str) -> None:
        with self._lock:
            if execution.state not in {"QUEUED", "RUNNING"}:
                return
            execution.state, execution.reason = "CANCELLED", reason
            execution.completed = time.time()
            connection = execution.connection
        if connection is not None:
            with contextlib.suppress(duckdb.Error):
                connection.interrupt()

    def _work(self, execution: Execution) -> None:
        with self._lock:
            if execution.state != "QUEUED":
                return
            execution.state, execution.started = "RUNNING", time.time()
        outcome, reason, category = "SUCCEEDED", None, None
        try:
            self._runner.run(execution)
        except QueryError as error:
            outcome, reason, category = "FAILED", error.reason, error.category
        except Exception as error:  # a bug here must fail the query, not hang its callers
            log.exception("query %s", execution.query_id)
            outcome, reason, category = "FAILED", f"GENERIC_INTERNAL_ERROR: {error}", 1
        finally:
            if execution.connection is not None:
                with contextlib.suppress(duckdb.Error):
                    execution.connection.close()
        with self._lock:
            execution.connection = None
            if execution.state != "RUNNING":
                return  # cancelled meanwhile: the cancellation stands
            execution.state, execution.reason = outcome, reason
            execution.error_category = category
            execution.completed = time.time()
            if outcome != "SUCCEEDED":
                execution.header, execution.rows = [], []


def _required(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError("InvalidRequestException", f"{name} is required")
    return value


def _offset(token: object, query_id: str) -> int:
    if token is None:
        return 0
    owner, _, offset = str(token).rpartition(":")
    if owner != query_id or not offset.isdigit():
        raise ApiError("InvalidRequestException", "NextToken is not valid for this query")
    return int(offset)


# ---------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glucosestream.local.athena_api",
        description="Athena's API on 127.0.0.1: DuckDB over the S3 lake and Glue catalog of a "
        "moto server.",
    )
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--moto-endpoint", required=True, help="e.g. http://127.0.0.1:4566")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--cache-dir", type=Path, default=None)
    arguments = parser.parse_args(argv)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    api = LocalAthenaApi(
        arguments.moto_endpoint,
        host=arguments.host,
        port=arguments.port,
        region=arguments.region,
        cache_dir=arguments.cache_dir,
        memory_limit=load_settings().local_engine_memory,
    )
    with api:
        print(f"local Athena API on {api.endpoint} (moto at {arguments.moto_endpoint})", flush=True)
        stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
