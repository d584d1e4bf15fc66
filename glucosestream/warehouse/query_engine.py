"""The query-engine port: Athena (Trino) SQL against the lake's tables.

Implementations: :class:`glucosestream.adapters.athena.AthenaQueryEngine` (aws mode:
StartQueryExecution in the workgroup, polled, results paged) and the local one in
``glucosestream.local`` (DuckDB running the same SQL, transpiled by sqlglot). The SQL is Athena
SQL with ``?`` placeholders; values travel only as execution parameters, never in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

Parameter = str | int | float | date | datetime
Columns = dict[str, list[Any]]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A finished query: its id and, for a SELECT, its rows as columns (``{name: [values]}``)."""

    query_id: str
    columns: Columns = field(default_factory=dict)
    data_scanned_bytes: int = 0


class QueryFailed(RuntimeError):
    """A query ended FAILED or CANCELLED, or timed out; the message carries the query id and the
    engine's reason (Athena's StateChangeReason)."""

    def __init__(self, query_id: str, state: str, reason: str) -> None:
        super().__init__(f"query {query_id} {state.lower()}: {reason}")
        self.query_id = query_id
        self.state = state
        self.reason = reason


class QueryEngine(Protocol):
    """Runs one statement to completion (SELECT, UNLOAD, CTAS, DDL)."""

    @property
    def database(self) -> str:
        """The Glue database that ``${database}`` in the SQL files stands for."""
        ...

    def execute(self, sql: str, parameters: Sequence[Parameter] = ()) -> QueryResult:
        """Run ``sql`` (Athena SQL, ``${database}`` already rendered) with ``parameters`` bound
        to its ``?`` placeholders in order; raises :class:`QueryFailed`."""
        ...
