"""Athena adapter: the query-engine port (:mod:`glucosestream.warehouse.query_engine`) on Amazon
Athena.

One statement per :meth:`AthenaQueryEngine.execute`: ``StartQueryExecution`` in the workgroup
(``QueryExecutionContext`` = the Glue database; values only as ``ExecutionParameters``, each the
Athena literal of a Python value), then ``GetQueryExecution`` polled with capped exponential
backoff until the query ends, then, for a query that returns rows, ``GetQueryResults`` page by
page, each cell typed by its column's Athena type.

Failures come back as the port's :class:`~glucosestream.warehouse.query_engine.QueryFailed`,
carrying
the query id and Athena's ``StateChangeReason`` (FAILED, CANCELLED, or a timeout: the query is
then stopped, so it stops scanning and costing); a request Athena refuses outright (unknown
workgroup, throttled beyond the retries) is a :class:`QueryRejected`, a ``QueryFailed`` without a
query id; access denied (IAM, or the S3 results or lake bucket) is an :class:`AthenaAccessDenied`
naming the bucket and prefix whenever Athena's message says which.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from glucosestream.warehouse.query_engine import Columns, Parameter, QueryFailed, QueryResult
from glucosestream.warehouse.sql_text import (
    athena_literal as athena_literal,  # re-exported for callers
)

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
THROTTLING_CODES = frozenset({"TooManyRequestsException", "ThrottlingException"})
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
NO_ROWS_SUBSTATEMENTS = frozenset(
    {"UNLOAD", "INSERT", "CREATE_TABLE_AS_SELECT", "CREATE_TABLE", "MERGE", "UPDATE", "DELETE"}
)
"""DML that returns no result set (``SubstatementType``); GetQueryResults is not called."""

_S3_LOCATION = re.compile(
    r"(?:s3a?://|arn:aws[a-z-]*:s3:::)([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/?([^\s'\"]*)"
)


class QueryRejected(QueryFailed):
    """Athena refused to start the query (no query id): the error code and Athena's message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__("(not started)", "REJECTED", f"{code}: {message}")
        self.code = code


class AthenaAccessDenied(PermissionError):
    """Athena, or the S3 bucket behind it, refused access; names the bucket and prefix if known."""

    def __init__(self, operation: str, workgroup: str, message: str) -> None:
        found = _S3_LOCATION.search(message)
        self.bucket = found.group(1) if found else None
        self.prefix = found.group(2).rstrip(".,;:)") if found else None
        where = f"s3://{self.bucket}/{self.prefix}" if found else "Athena"
        super().__init__(
            f"access denied to {where} (athena:{operation} in workgroup {workgroup}): {message}"
        )


# ------------------------------------------------------------------------------ values


_INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
_FLOAT_TYPES = frozenset({"double", "float", "real"})


def athena_value(text: str | None, kind: str) -> Any:
    """A ``GetQueryResults`` cell (``VarCharValue``; None for NULL) as the Python value of its
    column's Athena type; types without a Python counterpart (arrays, maps, rows, JSON) stay
    text."""
    if text is None:
        return None
    kind = kind.lower()
    base = kind.split("(", 1)[0].strip()
    if base in _INTEGER_TYPES:
        return int(text)
    if base in _FLOAT_TYPES:
        return float(text)
    if base == "decimal":
        return Decimal(text)
    if base == "boolean":
        return text == "true"
    if base == "date":
        return date.fromisoformat(text)
    if base.startswith("timestamp"):
        if "with time zone" in kind:
            stamp, _, zone = text.rpartition(" ")
            if zone != "UTC":
                raise ValueError(f"timestamp {text!r}: only UTC offsets are understood")
            return datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        return datetime.fromisoformat(text)
    return text


# ----------------------------------------------------------------------------- the engine


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential delays: ``first_s``, ×``factor`` each time, never above ``cap_s``."""

    first_s: float = 0.2
    factor: float = 2.0
    cap_s: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.first_s
        while True:
            yield min(delay, self.cap_s)
            delay *= self.factor


class AthenaQueryEngine:
    """The query-engine port on Athena (boto3 ``athena`` client injected).

    Parameters
    ----------
    client
        A boto3 Athena client (``glucosestream.adapters.clients.aws_client("athena", …)``).
    database, workgroup
        The Glue database (``QueryExecutionContext``) and the Athena workgroup.
    output_location
        ``ResultConfiguration.OutputLocation`` to send, if any; a workgroup that enforces its
        configuration (ours does) overrides it.
    timeout_s
        How long the polls may wait in total before the query is stopped and reported.
    poll, throttle
        Delays between polls, and between start attempts Athena throttled.
    start_attempts
        How many times StartQueryExecution is tried while Athena throttles it.
    sleep
        Waits between calls (tests pass a recorder).
    """

    def __init__(
        self,
        client: Any,
        *,
        database: str,
        workgroup: str,
        output_location: str | None = None,
        timeout_s: float = 600.0,
        poll: Backoff = Backoff(),
        throttle: Backoff = Backoff(first_s=0.5, cap_s=8.0),
        start_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if start_attempts < 1:
            raise ValueError("start_attempts must be at least 1")
        self.client = client
        self._database = database
        self.workgroup = workgroup
        self.output_location = output_location
        self.timeout_s = timeout_s
        self.poll = poll
        self.throttle = throttle
        self.start_attempts = start_attempts
        self._sleep = sleep

    @property
    def database(self) -> str:
        return self._database

    def execute(self, sql: str, parameters: Sequence[Parameter] = ()) -> QueryResult:
        """Run one statement to its end; its rows when it returns any (see the module doc)."""
        query_id = self.start(sql, parameters)
        execution = self.wait(query_id)
        scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
        columns = self.results(query_id, execution) if _returns_rows(execution) else {}
        return QueryResult(query_id, columns, scanned)

    def start(self, sql: str, parameters: Sequence[Parameter] = ()) -> str:
        """StartQueryExecution, retried with backoff while Athena throttles; the query id."""
        request: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        if parameters:
            request["ExecutionParameters"] = [athena_literal(p) for p in parameters]
        if self.output_location is not None:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        delays = self.throttle.delays()
        for attempt in range(1, self.start_attempts + 1):
            try:
                response = self._call("StartQueryExecution", request)
                return str(response["QueryExecutionId"])
            except ClientError as error:
                code, message = _error(error)
                if code in THROTTLING_CODES and attempt < self.start_attempts:
                    self._sleep(next(delays))
                    continue
                if code in THROTTLING_CODES:
                    message = f"{message} (throttled {attempt} times)"
                raise QueryRejected(code, message) from error
        raise AssertionError("unreachable")

    def wait(self, query_id: str) -> dict[str, Any]:
        """Poll GetQueryExecution until the query ends; its ``QueryExecution`` when it
        SUCCEEDED. FAILED/CANCELLED raise :class:`QueryFailed`; so does the timeout, after
        StopQueryExecution."""
        waited = 0.0
        delays = self.poll.delays()
        while True:
            response = self._call("GetQueryExecution", {"QueryExecutionId": query_id})
            execution: dict[str, Any] = response["QueryExecution"]
            status = execution["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return execution
            if state in TERMINAL_STATES:
                raise QueryFailed(query_id, state, status.get("StateChangeReason", state))
            if waited >= self.timeout_s:
                self._stop(query_id)
                raise QueryFailed(
                    query_id,
                    "TIMED OUT",
                    f"still {state} after {waited:.0f} s (limit {self.timeout_s:.0f} s); stopped",
                )
            delay = min(next(delays), max(self.timeout_s - waited, 0.0))
            self._sleep(delay)
            waited += delay

    def results(self, query_id: str, execution: dict[str, Any] | None = None) -> Columns:
        """Every page of GetQueryResults as ``{column: [values]}``, typed by column type.

        The first row of a SELECT's (a DML statement's) first page repeats the column names and
        is dropped; DDL and utility statements have no such row.
        """
        header = execution is None or execution.get("StatementType", "DML") == "DML"
        columns: Columns = {}
        names: list[str] = []
        kinds: list[str] = []
        request: dict[str, Any] = {"QueryExecutionId": query_id}
        first_page = True
        while True:
            page = self._call("GetQueryResults", request)
            result_set = page["ResultSet"]
            rows = result_set.get("Rows", [])
            if first_page:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                names = [column["Name"] for column in info]
                kinds = [column["Type"] for column in info]
                columns = {name: [] for name in names}
                if header and rows:
                    rows = rows[1:]
                first_page = False
            for row in rows:
                cells = row.get("Data", [])
                if len(cells) != len(names):
                    raise ValueError(
                        f"query {query_id}: a result row has {len(cells)} cells for "
                        f"{len(names)} columns"
                    )
                for name, kind, cell in zip(names, kinds, cells, strict=True):
                    columns[name].append(athena_value(cell.get("VarCharValue"), kind))
            token = page.get("NextToken")
            if not token:
                return columns
            request = {"QueryExecutionId": query_id, "NextToken": token}

    # ---------------------------------------------------------------------------- helpers

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self.client, _snake(operation))
        try:
            response: dict[str, Any] = method(**request)
        except ClientError as error:
            code, message = _error(error)
            if code in ACCESS_DENIED_CODES:
                raise AthenaAccessDenied(operation, self.workgroup, message) from error
            raise
        return response

    def _stop(self, query_id: str) -> None:
        # The timeout is reported whether or not the stop request succeeds.
        with contextlib.suppress(ClientError, AthenaAccessDenied):
            self._call("StopQueryExecution", {"QueryExecutionId": query_id})


def _returns_rows(execution: dict[str, Any]) -> bool:
    if execution.get("StatementType", "DML") != "DML":
        return True  # DDL and utility statements (SHOW, DESCRIBE) answer with rows
    return execution.get("SubstatementType", "SELECT").upper() not in NO_ROWS_SUBSTATEMENTS


def _error(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code", "Unknown")), str(details.get("Message", error))


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
