"""The dashboard's local query engine: DuckDB over the local lake (``settings.lake_dir``),
running the dashboard's Athena SQL transpiled by sqlglot — local mode's implementation of
:class:`glucosestream.dashboard.queries.QueryEngine` (aws mode's is ``AthenaEngine``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import duckdb

from glucosestream.dashboard.queries import Query, QueryError, Scan
from glucosestream.local.athena import LocalAthena, render, to_duckdb
from glucosestream.local.lake import lake_engine
from glucosestream.settings import Settings
from glucosestream.warehouse.query_engine import Columns, Parameter


class DuckDbEngine:
    """The local engine: DuckDB over ``settings.lake_dir`` (the ELT's table definitions).

    One connection, one lock: binding a table replaces a view, so two queries must not bind at
    once; each query rebinds, so it sees partitions the ELT swapped in since the last one.
    """

    def __init__(self, settings: Settings) -> None:
        self._engine: LocalAthena = lake_engine(settings)
        self._lock = threading.Lock()

    def run(self, query: Query, parameters: Sequence[Parameter], scan: Scan) -> Columns:
        statement = to_duckdb(render(query.sql, {"database": self._engine.database}))[-1]
        with self._lock:
            # An ELT run may swap a partition directory between binding and reading: the files
            # vanish, so bind again once and retry.
            for attempt in (1, 2):
                try:
                    for table in query.tables:
                        wanted = scan.partitions.get(table)
                        partitions = (
                            self._engine.partitions(table) if wanted is None else list(wanted)
                        )
                        self._engine.bind(table, partitions)
                    cursor = self._engine.connection.execute(statement, list(parameters))
                    rows = cursor.fetchall()
                    names = [d[0] for d in cursor.description or ()]
                    return {name: [r[i] for r in rows] for i, name in enumerate(names)}
                except (duckdb.IOException, FileNotFoundError) as error:
                    if attempt == 2:
                        raise QueryError(f"{query.name}: lake files changed under the query") from (
                            error
                        )
                except duckdb.Error as error:
                    raise QueryError(f"{query.name}: {type(error).__name__}") from error
        raise AssertionError("unreachable")
