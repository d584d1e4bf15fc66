"""Nightscout entries older than the read path keeps, answered from the lake.

The read path's store (DynamoDB, shared by every API instance) keeps ``GS_INGEST_RECENT_DAYS`` of
entries; a ``find[date]`` reaching further back (a follower filling a 30-day chart, a report
tool) is answered from the curated readings through the query-engine port (Athena in aws mode,
DuckDB over the local lake in local mode), so every instance answers the same for any range.

The curated table holds one row per reading identity (the ELT's deduplication), so a reading sent
twice is one entry here as in the store. A reading reaches it when the pipeline has curated its
day (every 15 minutes in the deployed schedule): the store's window is days long, so nothing
falls between the two.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from glucosestream.domain.reading import ReadingSource, Trend
from glucosestream.ingest.nightscout import reading_entry
from glucosestream.warehouse.query_engine import Parameter, QueryEngine, QueryFailed
from glucosestream.warehouse.sql_text import render

MAX_ARCHIVED_ENTRIES = 10_000
"""Most entries one lake read returns (newest first): the largest ``count`` of a GET
(:class:`glucosestream.ingest.api.service.Limits`), Athena's results read in pages of 1,000."""
NEIGHBOUR_MARGIN_MS = 30 * 60_000
"""How far below a range the lake is read for the entry before it (the oldest entry's delta)."""

ENTRIES_SQL = """
SELECT event_id, source, glucose_mg_dl, measured_at, trend, device_id, utc_offset_minutes
FROM ${database}.curated_readings
WHERE patient_id = ?
  AND dt BETWEEN ? AND ?
  AND measured_at BETWEEN ? AND ?
ORDER BY measured_at DESC, event_id
LIMIT 10001
"""
"""One patient's curated readings in a time range, newest first; the ``dt`` bounds prune the
partitions (Athena takes parameters in WHERE only, hence the constant LIMIT: one more than
:data:`MAX_ARCHIVED_ENTRIES`)."""


class ArchiveUnavailable(RuntimeError):
    """The lake could not answer (the query failed or timed out); the message says why."""


class EntryArchive(Protocol):
    def entries(self, patient_id: str, date_from_ms: int, date_to_ms: int) -> ArchivedEntries:
        """The patient's entries with ``date_from_ms <= date <= date_to_ms``, newest first,
        without ``delta``; raises :class:`ArchiveUnavailable`."""
        ...


class ArchivedEntries(list[dict[str, Any]]):
    """Entries newest first, and the entry just before the oldest one (for its delta), if any."""

    def __init__(self, entries: list[dict[str, Any]], before: dict[str, Any] | None) -> None:
        super().__init__(entries)
        self.before = before


class LakeEntries:
    """The archive on the lake's ``curated_readings`` through a query engine.

    ``engine`` is called for each read: the local engine binds the lake's partitions when it is
    made, and the pipeline swaps partitions in between reads.
    """

    def __init__(self, engine: Callable[[], QueryEngine]) -> None:
        self._engine = engine

    def entries(self, patient_id: str, date_from_ms: int, date_to_ms: int) -> ArchivedEntries:
        engine = self._engine()
        low = _utc(date_from_ms - NEIGHBOUR_MARGIN_MS)
        high = _utc(date_to_ms)
        parameters: list[Parameter] = [
            patient_id,
            low.date().isoformat(),
            high.date().isoformat(),
            low,
            high,
        ]
        try:
            result = engine.execute(render(ENTRIES_SQL, {"database": engine.database}), parameters)
        except QueryFailed as failed:
            raise ArchiveUnavailable(f"the lake did not answer: {failed.reason}") from failed
        columns = result.columns
        rows = [
            reading_entry(
                event_id,
                ReadingSource(source),
                int(glucose),
                _epoch_ms(measured_at),
                Trend(trend),
                device_id,
                int(offset),
            )
            for event_id, source, glucose, measured_at, trend, device_id, offset in zip(
                *(columns.get(name, []) for name in _COLUMNS), strict=True
            )
        ]
        in_range = [row for row in rows if row["date"] >= date_from_ms]
        older = [row for row in rows if row["date"] < date_from_ms]
        return ArchivedEntries(in_range[:MAX_ARCHIVED_ENTRIES], older[0] if older else None)


_COLUMNS = (
    "event_id",
    "source",
    "glucose_mg_dl",
    "measured_at",
    "trend",
    "device_id",
    "utc_offset_minutes",
)


def _utc(epoch_ms: int) -> datetime:
    """The naive UTC datetime Athena's TIMESTAMP compares with."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).replace(tzinfo=None)


def _epoch_ms(value: datetime) -> int:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)
