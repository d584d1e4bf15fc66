"""The in-process engine port: the Athena SQL of ``sql/`` over Arrow tables held in this process.

What the CSV commands (``glucosestream metrics`` / ``episodes``) compute with: the CSV's
readings become a table of the engine, and the same statements the pipeline runs on Athena
(:mod:`glucosestream.warehouse.sql_text` binds and composes them) run over it. Implementation:
:class:`glucosestream.local.athena.LocalAthena` (DuckDB, the SQL transpiled by sqlglot), which
the CLI, a composition root, builds and passes in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from glucosestream.warehouse.sql_text import Statement

if TYPE_CHECKING:
    import pyarrow as pa


class ArrowEngine(Protocol):
    @property
    def database(self) -> str:
        """The database that ``${database}`` in the SQL files stands for."""
        ...

    def register(self, table: str, data: pa.Table) -> None:
        """Make ``data`` the table ``<database>.<table>`` (replacing one of that name)."""
        ...

    def run(self, statement: Statement) -> pa.Table:
        """Run one statement, its parameters bound to its ``?`` in order; its rows."""
        ...
