"""Athena, locally: DuckDB runs the Athena (Trino) SQL in ``sql/``, transpiled by sqlglot.

There is one copy of every query. Files are templated only with ``${database}``-style names;
each statement is transpiled from the ``athena`` dialect to ``duckdb`` at run time. SQL in
``sql/`` is written to mean the same on both engines (e.g. no integer division: ``x / 2`` is
integer division in Trino and float division in DuckDB, so the files divide by ``2.0`` or cast).

Lake tables (the ELT's stand-in for Glue tables over S3): :meth:`LocalAthena.define_table` reads
a ``sql/ddl/`` file (``CREATE EXTERNAL TABLE … PARTITIONED BY … STORED AS PARQUET``) with sqlglot
and binds the table to a local directory with the same key layout. :meth:`LocalAthena.bind`
makes the table a view over chosen partitions' Parquet files (what partition projection plus
pruning reads on Athena; an empty typed table when there are none), so a query costs what its
partitions hold, not what the table holds. :meth:`LocalAthena.insert_overwrite` runs a file
whose statement is ``INSERT INTO <lake table> SELECT …`` (or a plain query, wrapped) as DuckDB
``COPY (SELECT …) TO '<staging dir>' (FORMAT PARQUET, PARTITION_BY (…))`` and then swaps each
written partition directory into the table's location, replacing the old one; partitions it
was told to replace that received no rows are removed. Values reach SQL only as ``?``
parameters (Athena's execution parameters), never as text.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.tokenizer_core import Token, TokenType

from glucosestream.lake.storage import hidden_from_queries
from glucosestream.warehouse.sql_text import (
    SQL_DIR,
    SqlError,
    Statement,
    identifier,
    render,
    sql_file,
)

__all__ = ["SQL_DIR", "LocalAthena", "SqlError", "identifier", "render", "sql_file", "to_duckdb"]


def to_duckdb(athena_sql: str) -> list[str]:
    """Athena (Trino) SQL → DuckDB statements."""
    return [s for s in sqlglot.transpile(athena_sql, read="athena", write="duckdb") if s.strip()]


@dataclass(frozen=True, slots=True)
class Unload:
    """An Athena ``UNLOAD (query) TO 'location' WITH (…)`` statement."""

    query: exp.Query
    location: str
    format: str
    compression: str
    partitioned_by: tuple[str, ...]


_UNLOAD_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9_.=/-]*/$")


def parse_unload(sql: str) -> Unload:
    """Parse an ``UNLOAD`` statement (sqlglot keeps it as an opaque command: its query is parsed
    here from the tokens between the first parentheses). Only Parquet output is supported."""
    head, _, rest = sql.strip().rstrip(";").partition(" ")
    if head.upper() != "UNLOAD":
        raise SqlError("not an UNLOAD statement")
    tokens = sqlglot.Dialect.get_or_raise("athena").tokenize(rest)
    query_end = _closing(tokens, 0)
    after = tokens[query_end + 1 :]
    if (
        len(after) < 4
        or after[0].text.upper() != "TO"
        or after[1].token_type != TokenType.STRING
        or after[2].token_type != TokenType.WITH
    ):
        raise SqlError("UNLOAD needs (query) TO 's3://…' WITH (…)")
    query = sqlglot.parse_one(rest[tokens[0].end + 1 : tokens[query_end].start], read="athena")
    if not isinstance(query, exp.Query):
        raise SqlError("UNLOAD needs a query")
    location = after[1].text
    if not _UNLOAD_LOCATION.match(location):
        raise SqlError(f"UNLOAD: {location!r} is not an s3://bucket/prefix/ location")
    properties = _properties(after[3:])
    unknown = set(properties) - {"format", "compression", "partitioned_by"}
    if unknown:
        raise SqlError(f"UNLOAD: unsupported properties {sorted(unknown)}")
    file_format = str(properties.get("format", "")).upper()
    if file_format != "PARQUET":
        raise SqlError(f"UNLOAD: only format = 'PARQUET' is supported, not {file_format!r}")
    keys = properties.get("partitioned_by", [])
    partitioned_by = tuple(identifier(k) for k in (keys if isinstance(keys, list) else [keys]))
    selected = [column.alias_or_name for column in query.selects]
    if partitioned_by and tuple(selected[-len(partitioned_by) :]) != partitioned_by:
        raise SqlError("UNLOAD: the partition columns must be the query's last columns")
    compression = str(properties.get("compression", "GZIP")).upper()
    return Unload(query, location, file_format, compression, partitioned_by)


_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


_TYPED = re.compile(r"^(?P<kind>DATE|TIMESTAMP)\s*'(?P<text>[^']*)'$", re.IGNORECASE)


BoundValue = str | int | float | bool | date | datetime
"""An execution parameter's value as DuckDB binds it."""


def parameter_value(literal: str) -> BoundValue:
    """One Athena ExecutionParameter (SQL literal text: ``'text'``, a number, ``true``/``false``,
    ``DATE '…'`` or ``TIMESTAMP '…'``) as the value DuckDB binds; anything else fails as Athena
    would fail to parse it."""
    text = literal.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'" and "'" not in text[1:-1].replace("''", ""):
        return text[1:-1].replace("''", "'")
    if _NUMBER.match(text):
        return int(text) if text.lstrip("-").isdigit() else float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    typed = _TYPED.match(text)
    if typed is not None:
        try:
            if typed["kind"].upper() == "DATE":
                return date.fromisoformat(typed["text"])
            return datetime.fromisoformat(typed["text"])
        except ValueError:
            raise SqlError(f"execution parameter {literal!r}: invalid {typed['kind']}") from None
    raise SqlError(f"execution parameter {literal!r} is not a string, number, date or timestamp")


def _closing(tokens: Sequence[Token], start: int) -> int:
    """Index of the parenthesis closing the one at ``tokens[start]``."""
    if not tokens or tokens[start].token_type != TokenType.L_PAREN:
        raise SqlError("expected '('")
    depth = 0
    for index in range(start, len(tokens)):
        kind = tokens[index].token_type
        depth += kind == TokenType.L_PAREN
        depth -= kind == TokenType.R_PAREN
        if depth == 0:
            return index
    raise SqlError("unbalanced parentheses")


def _properties(tokens: Sequence[Token]) -> dict[str, str | list[str]]:
    """``(name = 'value', name = ARRAY['a', …])`` → a dict."""
    end = _closing(tokens, 0)
    if end != len(tokens) - 1:
        raise SqlError("unexpected text after UNLOAD's WITH (…)")
    found: dict[str, str | list[str]] = {}
    index = 1
    while index < end:
        name, equals = tokens[index], tokens[index + 1]
        if equals.token_type != TokenType.EQ:
            raise SqlError(f"UNLOAD: expected '=' after {name.text}")
        index += 2
        if tokens[index].token_type == TokenType.STRING:
            found[name.text.lower()] = tokens[index].text
            index += 1
        elif tokens[index].token_type == TokenType.ARRAY:
            values = []
            index += 2  # ARRAY [
            while tokens[index].token_type != TokenType.R_BRACKET:
                if tokens[index].token_type == TokenType.STRING:
                    values.append(tokens[index].text)
                index += 1
            found[name.text.lower()] = values
            index += 1
        else:
            raise SqlError(f"UNLOAD: unsupported value for {name.text}")
        if tokens[index].token_type == TokenType.COMMA:
            index += 1
    return found


@dataclass(frozen=True, slots=True)
class LakeTable:
    """A Glue table as the local engine sees it: columns, Hive partition keys, a directory.

    Types are DuckDB type names (transpiled from the DDL's Hive/Athena types).
    """

    name: str
    location: Path
    columns: tuple[tuple[str, str], ...]
    partitioned_by: tuple[tuple[str, str], ...]

    @property
    def partition_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.partitioned_by)

    def partition_directory(self, values: Sequence[str]) -> Path:
        """``<location>/k1=v1/k2=v2`` for partition values in key order."""
        if len(values) != len(self.partitioned_by):
            raise SqlError(f"{self.name}: {len(self.partitioned_by)} partition keys, got {values}")
        path = self.location
        for name, value in zip(self.partition_names, values, strict=True):
            if not _PARTITION_VALUE.match(value):
                raise SqlError(f"{self.name}: {value!r} is not a partition value")
            path = path / f"{name}={value}"
        return path

    def partition_directory_prefix(self, value: str) -> Path:
        """``<location>/k1=value``: the directory of every partition whose first key is value."""
        if not _PARTITION_VALUE.match(value):
            raise SqlError(f"{self.name}: {value!r} is not a partition value")
        return self.location / f"{self.partition_names[0]}={value}"


_PARTITION_VALUE = re.compile(r"^[A-Za-z0-9_:.-]+$")


def _projected_values(
    statement: exp.Query, key: str, parameters: Sequence[BoundValue]
) -> list[str] | None:
    """The values of ``key`` a query is restricted to by its one ``key IN (…)`` / ``key = …``
    predicate of literals and ``?`` parameters (not under an OR), or None (read everything)."""
    placeholders = list(statement.find_all(exp.Placeholder, bfs=False))
    if len(placeholders) != len(parameters):
        return None
    value_of = {id(node): parameters[rank] for node, rank in _text_order(statement, placeholders)}
    found: list[list[str]] = []
    for node in statement.find_all(exp.In, exp.EQ):
        column = node.this
        if not isinstance(column, exp.Column) or column.name != key:
            continue
        if node.find_ancestor(exp.Or) is not None:
            return None
        operands = node.expressions if isinstance(node, exp.In) else [node.expression]
        if not operands:  # IN (subquery)
            return None
        values = []
        for operand in operands:
            if isinstance(operand, exp.Cast) and isinstance(operand.this, exp.Placeholder):
                operand = operand.this  # CAST(? AS DATE): the parameter is the value's text
            if isinstance(operand, exp.Placeholder):
                values.append(str(value_of[id(operand)]))
            elif isinstance(operand, exp.Literal) and operand.is_string:
                values.append(operand.this)
            else:
                return None
        found.append(values)
    return found[0] if len(found) == 1 else None


def _text_order(
    statement: exp.Query, placeholders: Sequence[exp.Placeholder]
) -> list[tuple[exp.Placeholder, int]]:
    """Each placeholder with its position among the ``?`` of the statement's text (the order
    execution parameters bind in), which a walk of the tree need not follow (a WITH clause is
    visited after the query that it precedes)."""
    marked = statement.copy()
    copies = list(marked.find_all(exp.Placeholder, bfs=False))
    for index, node in enumerate(copies):
        node.replace(exp.Literal.string(f"__placeholder_{index}__"))
    text = marked.sql("athena")
    offsets = [text.index(f"'__placeholder_{index}__'") for index in range(len(copies))]
    ranks = {
        index: rank
        for rank, index in enumerate(sorted(range(len(copies)), key=offsets.__getitem__))
    }
    return [(node, ranks[index]) for index, node in enumerate(placeholders)]


def table_of_ddl(text: str, location: Path) -> LakeTable:
    """The :class:`LakeTable` a rendered ``CREATE EXTERNAL TABLE`` statement defines."""
    create = sqlglot.parse_one(text, read="athena")
    if not isinstance(create, exp.Create) or not isinstance(create.this, exp.Schema):
        raise SqlError("a DDL file must be one CREATE TABLE with a column list")
    table = create.this.this
    if not isinstance(table, exp.Table):
        raise SqlError("a DDL file must create a named table")

    def columns(defs: Iterable[exp.Expression]) -> tuple[tuple[str, str], ...]:
        out = []
        for column in defs:
            if not isinstance(column, exp.ColumnDef) or column.kind is None:
                raise SqlError(f"unexpected column definition {column.sql('athena')}")
            out.append((identifier(column.name), column.kind.sql("duckdb")))
        return tuple(out)

    partitioned: tuple[tuple[str, str], ...] = ()
    properties = create.args.get("properties")
    if properties is not None:
        for prop in properties.expressions:
            if isinstance(prop, exp.PartitionedByProperty) and isinstance(prop.this, exp.Schema):
                partitioned = columns(prop.this.expressions)
    return LakeTable(
        identifier(table.name), location, columns(create.this.expressions), partitioned
    )


def _token_of(directory: Path) -> str:
    """The name of the hidden directory a staged file is under (``.staging-<token>/…``), so
    that :meth:`LocalAthena.swap_in` recognises a partition it already moved; else a new id."""
    for part in reversed(directory.parts):
        if part.startswith("."):
            return part.lstrip(".")
    return uuid.uuid4().hex


def _quote(text: str) -> str:
    """A SQL string literal (paths only: they come from settings, never from data)."""
    return "'" + text.replace("'", "''") + "'"


DEFAULT_ENGINE_MEMORY = "25%"
"""Settings.local_engine_memory's default: DuckDB's own (80% of RAM) let one pipeline run over
a 198M-reading lake reach 19.8 GiB of RSS."""


def engine_connection(memory_limit: str = DEFAULT_ENGINE_MEMORY, threads: int | None = None) -> Any:
    """A DuckDB database for the local engine, holding at most ``memory_limit`` (``25%``,
    ``4GiB``); beyond it DuckDB spills to a directory of this process's own under the system
    temporary directory (the default, ``.tmp`` in the working directory, would litter the
    checkout and be shared by concurrent processes). ``threads``: DuckDB's worker threads
    (None: one a core). With one, results are the same run after run: parallel sums of doubles
    combine their parts in whatever order the threads finish."""
    spill = Path(tempfile.gettempdir()) / f"glucosestream-duckdb-{os.getpid()}"
    config: dict[str, Any] = {"memory_limit": memory_limit, "temp_directory": str(spill)}
    if threads is not None:
        config["threads"] = threads
    return duckdb.connect(config=config)


class LocalAthena:
    """DuckDB with one schema per Glue database."""

    def __init__(
        self,
        database: str = "gs_local",
        connection: Any | None = None,
        memory_limit: str = DEFAULT_ENGINE_MEMORY,
        threads: int | None = None,
    ) -> None:
        self.database = identifier(database)
        self.connection = connection or engine_connection(memory_limit, threads)
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")

    def register(self, table: str, data: pa.Table) -> None:
        """Make an Arrow table a table of the database (the CLI's input): a view of the Arrow
        data itself, which DuckDB scans where it lies (a copy into the database cost as much
        as the metrics' one scan of the readings)."""
        table = identifier(table)
        arrow_name = f"_{self.database}_{table}_arrow"
        self.connection.register(arrow_name, data)
        self.connection.execute(  # identifiers checked above; no values in the text
            f"CREATE OR REPLACE VIEW {self.database}.{table} AS SELECT * FROM {arrow_name}"  # noqa: S608
        )

    def query(self, relative: str, **names: str) -> pa.Table:
        """Run one SQL file (its last statement's result as Arrow)."""
        path = sql_file(relative)
        statements = to_duckdb(render(path.read_text(), {"database": self.database, **names}))
        try:
            for statement in statements[:-1]:
                self.connection.execute(statement)
            result: pa.Table = self.connection.sql(statements[-1]).to_arrow_table()
        except duckdb.Error as error:
            raise SqlError(f"{relative}: {error}") from None
        return result

    def run(self, statement: Statement) -> pa.Table:
        """Run one Athena statement (a file of ``sql/`` as :mod:`~glucosestream.warehouse.sql_text`
        binds and composes it), its parameters bound to its ``?`` in order; the rows as Arrow."""
        statements = to_duckdb(statement.sql)
        if len(statements) != 1:
            raise SqlError(f"one statement expected, got {len(statements)}")
        try:
            result: pa.Table = self.connection.sql(
                statements[0], params=list(statement.parameters) or None
            ).to_arrow_table()
        except duckdb.Error as error:
            raise SqlError(f"query: {error}") from None
        return result

    def create_table(self, table: str, relative: str, **names: str) -> None:
        """CREATE TABLE <database>.<table> AS the SQL file's query."""
        result = self.query(relative, **names)
        self.register(table, result)

    # ---------------------------------------------------------------- lake tables (the ELT)

    @property
    def lake_tables(self) -> dict[str, LakeTable]:
        tables: dict[str, LakeTable] = self.__dict__.setdefault("_lake_tables", {})
        return tables

    def _statements(self, relative: str, names: Mapping[str, str]) -> list[exp.Expr]:
        text = render(sql_file(relative).read_text(), {"database": self.database, **names})
        return [s for s in sqlglot.parse(text, read="athena") if s is not None]

    def _run(self, relative: str, sql: str, parameters: Sequence[object] = ()) -> None:
        try:
            self.connection.execute(sql, list(parameters) if parameters else None).fetchall()
        except duckdb.Error as error:
            raise SqlError(f"{relative}: {error}") from None

    def define_table(self, relative: str, location: Path) -> LakeTable:
        """Read a ``sql/ddl/`` file and bind its table to ``location`` (initially empty)."""
        text = render(sql_file(relative).read_text(), {"database": self.database})
        table = table_of_ddl(text, location)
        self.lake_tables[table.name] = table
        self.bind(table.name, [])
        return table

    def partitions(self, table: str) -> list[tuple[str, ...]]:
        """The partitions present on disk (each directory holding Parquet files), sorted."""
        lake = self.lake_tables[identifier(table)]
        found: list[tuple[str, ...]] = []

        def walk(path: Path, prefix: tuple[str, ...], depth: int) -> None:
            if depth == len(lake.partitioned_by):
                if any(path.glob("*.parquet")):
                    found.append(prefix)
                return
            key = f"{lake.partition_names[depth]}="
            for child in sorted(path.iterdir()) if path.is_dir() else ():
                if child.is_dir() and child.name.startswith(key):
                    walk(child, (*prefix, child.name[len(key) :]), depth + 1)

        walk(lake.location, (), 0)
        return found

    def bind(self, table: str, partitions: Iterable[Sequence[str]]) -> list[Path]:
        """Make ``<database>.<table>`` the rows of these partitions only; returns the files read.

        Partitions without files are skipped; with no files at all the table is empty (typed as
        the DDL says).
        """
        lake = self.lake_tables[identifier(table)]
        files: list[Path] = []
        for values in partitions:
            files.extend(sorted(lake.partition_directory(values).glob("*.parquet")))
        self._bind_files(lake, files)
        return files

    def bind_projected(self, table: str, first_key_values: Iterable[str] | None) -> None:
        """Make ``<database>.<table>`` the partitions whose first key is one of the values
        (every partition when None), found from the values as partition projection does on
        Athena: only those directories are listed, so the cost follows the partitions read, not
        the table's history. An unpartitioned table is the Parquet files of its location."""
        lake = self.lake_tables[identifier(table)]
        if not lake.partitioned_by:
            self._bind_files(lake, sorted(lake.location.glob("*.parquet")))
            return
        rest = "/".join([*(f"{name}=*" for name in lake.partition_names[1:]), "*.parquet"])
        if first_key_values is None:
            directories = [lake.location]
            rest = f"{lake.partition_names[0]}=*/{rest}"
        else:
            directories = [
                lake.partition_directory_prefix(v) for v in sorted(set(first_key_values))
            ]
        self._bind_files(lake, [f for d in directories for f in sorted(d.glob(rest))])

    def _bind_files(self, lake: LakeTable, files: Sequence[Path]) -> None:
        # As Athena: a file (or a directory below the table) named .x or _x is not data.
        files = [
            f
            for f in files
            if not any(hidden_from_queries(part) for part in f.relative_to(lake.location).parts)
        ]
        target = f"{self.database}.{lake.name}"
        self._drop(lake.name)
        columns = (*lake.columns, *lake.partitioned_by)
        if not files:
            typed = ", ".join(f"{name} {kind}" for name, kind in columns)
            self.connection.execute(f"CREATE TABLE {target} ({typed})")
            return
        hive_types = ", ".join(f"{_quote(name)}: {kind}" for name, kind in lake.partitioned_by)
        listing = ", ".join(_quote(str(path)) for path in files)
        selected = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in columns)
        source = f"read_parquet([{listing}], hive_partitioning = true, union_by_name = true" + (
            f", hive_types = {{{hive_types}}})" if hive_types else ")"
        )
        # Identifiers checked, types from the DDL, paths quoted: no data in the text.
        self.connection.execute(f"CREATE VIEW {target} AS SELECT {selected} FROM {source}")  # noqa: S608

    def _drop(self, name: str) -> None:
        """Drop ``<database>.<name>``, whichever of table or view it is."""
        rows = self.connection.execute(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [self.database, identifier(name)],
        ).fetchall()
        if rows:
            kind = "VIEW" if rows[0][0] == "VIEW" else "TABLE"
            self.connection.execute(f"DROP {kind} {self.database}.{name}")

    def insert_overwrite(
        self,
        relative: str,
        table: str | None = None,
        *,
        replace: Collection[Sequence[str]] = (),
        parameters: Sequence[object] = (),
        extra_columns: Mapping[str, str] | None = None,
        **names: str,
    ) -> list[tuple[str, ...]]:
        """Run an ``INSERT INTO <lake table> SELECT …`` file, replacing the partitions it writes.

        ``table`` is needed when the file is a plain query (it is then inserted into that
        table). ``replace`` lists partitions to replace even if the query writes no row to them
        (they are removed). ``extra_columns`` adds constant columns to a plain query's rows
        (``name`` → ``?`` parameter expression in Athena SQL, e.g. the partition value).
        Returns the partitions written or removed, sorted.
        """
        statements = self._statements(relative, names)
        for statement in statements[:-1]:
            self._run(relative, statement.sql("duckdb"))
        last = statements[-1]
        if isinstance(last, exp.Insert):
            target = last.this.this if isinstance(last.this, exp.Schema) else last.this
            query = last.expression
            if not isinstance(target, exp.Table) or query is None:
                raise SqlError(f"{relative}: INSERT INTO must name a table and have a query")
            name = target.name
            if extra_columns:
                raise SqlError(f"{relative}: extra columns only for a plain query")
        elif isinstance(last, exp.Query):
            if table is None:
                raise SqlError(f"{relative}: a plain query needs the target table")
            name, query = table, last
            if extra_columns:
                outer = exp.select("q.*").from_(last.subquery("q"))
                for column, value in extra_columns.items():
                    expression = sqlglot.parse_one(value, read="athena")
                    outer = outer.select(expression.as_(identifier(column)))
                query = outer
        else:
            raise SqlError(f"{relative}: expected INSERT INTO … SELECT or a query")
        lake = self.lake_tables.get(identifier(name))
        if lake is None:
            raise SqlError(f"{relative}: {name} is not a lake table (define_table first)")
        ordered = exp.select(
            *[exp.column(column) for column, _ in (*lake.columns, *lake.partitioned_by)]
        ).from_(query.subquery("inserted"))
        return self._copy_and_swap(relative, lake, ordered.sql("duckdb"), replace, parameters)

    def write_arrow(
        self,
        table: str,
        data: pa.Table,
        *,
        replace: Collection[Sequence[str]] = (),
    ) -> list[tuple[str, ...]]:
        """Insert an Arrow table's rows into a lake table, replacing the partitions written."""
        lake = self.lake_tables[identifier(table)]
        self.connection.register("_write_arrow", data)
        try:
            columns = ", ".join(
                f"CAST({name} AS {kind}) AS {name}"
                for name, kind in (*lake.columns, *lake.partitioned_by)
            )
            query = f"SELECT {columns} FROM _write_arrow"  # noqa: S608 - checked identifiers
            return self._copy_and_swap(f"<arrow:{table}>", lake, query, replace, ())
        finally:
            self.connection.unregister("_write_arrow")

    def _copy_and_swap(
        self,
        relative: str,
        lake: LakeTable,
        query: str,
        replace: Collection[Sequence[str]],
        parameters: Sequence[object],
    ) -> list[tuple[str, ...]]:
        if not lake.partitioned_by:
            raise SqlError(f"{lake.name}: only partitioned lake tables can be written")
        lake.location.mkdir(parents=True, exist_ok=True)
        staging = lake.location / f".staging-{uuid.uuid4().hex}"
        try:
            self._copy(relative, query, staging, lake.partition_names, parameters)
            return self.swap_in(lake.name, staging, replace)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _copy(
        self,
        relative: str,
        query: str,
        target: Path,
        keys: Sequence[str],
        parameters: Sequence[object],
        compression: str = "ZSTD",
    ) -> int:
        """DuckDB ``COPY (query) TO target`` as Hive-partitioned Parquet; returns rows written."""
        # Files are named after the target directory, so a partition swapped in from it can be
        # recognised later (see swap_in).
        token = target.name.lstrip(".")
        if keys:
            partition_by = f", PARTITION_BY ({', '.join(identifier(k) for k in keys)})"
            pattern = f", FILENAME_PATTERN 'part-{token}-{{i}}'"
        else:  # one file in the directory, as UNLOAD writes files under its location
            target.mkdir(parents=True, exist_ok=True)
            partition_by, pattern = "", ""
            token = _token_of(target)
            target = target / f"part-{token}-0.parquet"
        try:
            rows = self.connection.execute(
                f"COPY ({query}) TO {_quote(str(target))} "
                f"(FORMAT PARQUET, COMPRESSION {identifier(compression.lower())}{partition_by}"
                f"{pattern})",
                list(parameters) if parameters else None,
            ).fetchall()
        except duckdb.Error as error:
            raise SqlError(f"{relative}: {error}") from None
        return int(rows[0][0]) if rows and rows[0] else 0

    def swap_in(
        self, table: str, staging: Path, replace: Collection[Sequence[str]] = ()
    ) -> list[tuple[str, ...]]:
        """Move the partition directories written under ``staging`` into the table's location,
        each replacing the old one (renames: a reader sees the old or the new partition); the
        partitions in ``replace`` that ``staging`` lacks are removed — unless their files came
        from ``staging`` (a repeated swap after a crash part-way through: those partitions are
        already the new ones). Returns the partitions written or removed, sorted."""
        lake = self.lake_tables[identifier(table)]
        trash = lake.location / f".trash-{uuid.uuid4().hex}"
        ours = f"part-{staging.name.lstrip('.')}-"
        try:
            written = self._staged_partitions(lake, staging) if staging.is_dir() else []
            wanted = sorted({tuple(values) for values in replace} | set(written))
            for values in wanted:
                current = lake.partition_directory(values)
                fresh = staging.joinpath(*current.relative_to(lake.location).parts)
                old = trash.joinpath(*current.relative_to(lake.location).parts)
                if not fresh.exists() and any(current.glob(f"{ours}*.parquet")):
                    continue
                if current.exists():
                    old.parent.mkdir(parents=True, exist_ok=True)
                    current.rename(old)
                if fresh.exists():
                    current.parent.mkdir(parents=True, exist_ok=True)
                    fresh.rename(current)
            return wanted
        finally:
            shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------- StartQueryExecution (the state machine)

    def start_query_execution(
        self,
        query_string: str,
        parameters: Sequence[str] = (),
        *,
        location_of: Callable[[str], Path],
    ) -> dict[str, Any]:
        """Run one Athena statement as ``athena:startQueryExecution.sync`` does; returns
        Athena's ``GetQueryExecution`` response shape.

        Supported: ``UNLOAD (query) TO 's3://…' WITH (format = 'PARQUET', compression = …,
        partitioned_by = ARRAY[…])`` (``location_of`` maps the S3 URI to a local directory,
        which must be empty, as Athena requires) and a plain query (its rows are kept for
        :meth:`get_query_results`). Every lake table the statement reads is bound to all its
        partitions on disk, as partition projection exposes them; DuckDB prunes by ``dt``.
        ``parameters`` are Athena's ExecutionParameters (SQL literal text, one per ``?``).
        """
        query_id = str(uuid.uuid4())
        values = [parameter_value(p) for p in parameters]
        unload = (
            parse_unload(query_string) if query_string.lstrip()[:6].upper() == "UNLOAD" else None
        )
        statement = unload.query if unload else sqlglot.parse_one(query_string, read="athena")
        if not isinstance(statement, exp.Query):
            raise SqlError("only UNLOAD and queries run as a query execution here")
        self._bind_read_tables(statement, values)
        started = time.monotonic()
        if unload is not None:
            target = location_of(unload.location)
            if target.exists() and any(target.iterdir()):
                raise SqlError(f"UNLOAD: the location {unload.location} is not empty")
            target.parent.mkdir(parents=True, exist_ok=True)
            rows = self._copy(
                "UNLOAD", statement.sql("duckdb"), target, unload.partitioned_by, values,
                unload.compression,
            )  # fmt: skip
        else:
            try:
                self.results[query_id] = self.connection.sql(
                    statement.sql("duckdb"), params=values or None
                ).to_arrow_table()
            except duckdb.Error as error:
                raise SqlError(f"query: {error}") from None
            rows = self.results[query_id].num_rows
        return {
            "QueryExecution": {
                "QueryExecutionId": query_id,
                "Query": query_string,
                "StatementType": "DML",  # Athena's type of both UNLOAD and SELECT
                "QueryExecutionContext": {"Database": self.database},
                "Status": {"State": "SUCCEEDED"},
                "Statistics": {
                    "EngineExecutionTimeInMillis": round((time.monotonic() - started) * 1000),
                    "RowsWritten" if unload else "RowsReturned": rows,
                },
            }
        }

    @property
    def results(self) -> dict[str, pa.Table]:
        kept: dict[str, pa.Table] = self.__dict__.setdefault("_results", {})
        return kept

    def _bind_read_tables(self, statement: exp.Query, parameters: Sequence[BoundValue]) -> None:
        names = {
            table.name
            for table in statement.find_all(exp.Table)
            if table.db == self.database and table.name in self.lake_tables
        }
        for name in sorted(names):
            lake = self.lake_tables[name]
            values = (
                _projected_values(statement, lake.partition_names[0], parameters)
                if len(names) == 1 and lake.partitioned_by
                else None
            )
            self.bind_projected(name, values)

    @staticmethod
    def _staged_partitions(lake: LakeTable, staging: Path) -> list[tuple[str, ...]]:
        found = []
        for file in staging.rglob("*.parquet"):
            parts = file.parent.relative_to(staging).parts
            values = tuple(part.split("=", 1)[1] for part in parts)
            found.append(values)
        return sorted(set(found))
