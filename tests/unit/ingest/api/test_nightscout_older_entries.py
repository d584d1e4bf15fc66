"""Entries older than the read path's window: the store answers from the cutoff on, the lake
(the service's entry archive) before it, and both together read as one newest-first list."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glucosestream.domain.reading import ReadingSource, Trend
from glucosestream.ingest.api.service import DAY_MS, IngestService
from glucosestream.ingest.lake_entries import ArchivedEntries, ArchiveUnavailable
from glucosestream.ingest.nightscout import reading_entry
from tests.unit.ingest.support import NIGHTSCOUT_SECRET, NOW_MS

Make = Callable[..., IngestService]
SECRET = hashlib.sha1(NIGHTSCOUT_SECRET.encode()).hexdigest()
CUTOFF_MS = NOW_MS - 14 * DAY_MS
"""The store's window: GS_INGEST_RECENT_DAYS (14) before the service's clock."""
MINUTE_MS = 60_000


def lake_entry(date_ms: int, sgv: int) -> dict[str, Any]:
    return reading_entry(
        f"lake-{date_ms}", ReadingSource.CGM, sgv, date_ms, Trend.FLAT, "dexcom-g6", 60
    )


@dataclass
class FakeArchive:
    """The lake as the service sees it: entries by date, and every range it was asked for."""

    entries_by_date: dict[int, int] = field(default_factory=dict)
    unavailable: bool = False
    asked: list[tuple[str, int, int]] = field(default_factory=list)

    def entries(self, patient_id: str, date_from_ms: int, date_to_ms: int) -> ArchivedEntries:
        self.asked.append((patient_id, date_from_ms, date_to_ms))
        if self.unavailable:
            raise ArchiveUnavailable("the lake did not answer: query q-1 timed out")
        newest_first = sorted(self.entries_by_date.items(), reverse=True)
        found = [lake_entry(d, v) for d, v in newest_first if date_from_ms <= d <= date_to_ms]
        before = [lake_entry(d, v) for d, v in newest_first if d < date_from_ms]
        return ArchivedEntries(found, before[0] if before else None)


def upload(service: IngestService, dates_and_values: list[tuple[int, int]]) -> None:
    entries = [
        {"type": "sgv", "sgv": v, "date": d, "direction": "Flat", "device": "xDrip-DexcomG6"}
        for d, v in dates_and_values
    ]
    assert service.post_entries(SECRET, json.dumps(entries).encode()).status == 200


def since(date_ms: int) -> dict[str, list[str]]:
    return {"find[date][$gte]": [str(date_ms)]}


def test_a_range_inside_the_window_never_reads_the_lake(make_service: Make) -> None:
    archive = FakeArchive({CUTOFF_MS - DAY_MS: 150})
    service = make_service(entry_archive=archive)
    upload(service, [(NOW_MS - 10 * MINUTE_MS, 101), (NOW_MS - 5 * MINUTE_MS, 99)])
    got = service.get_entries(SECRET, 10, since(NOW_MS - DAY_MS)).body
    assert [e["sgv"] for e in got] == [99, 101]
    assert service.get_entries(SECRET, 10).status == 200  # the 4-day default window
    assert archive.asked == []


def test_a_range_reaching_before_the_cutoff_joins_the_store_and_the_lake(
    make_service: Make,
) -> None:
    old = CUTOFF_MS - 2 * DAY_MS
    archive = FakeArchive({old - 5 * MINUTE_MS: 140, old: 130, old + 5 * MINUTE_MS: 125})
    service = make_service(entry_archive=archive)
    upload(service, [(NOW_MS - 10 * MINUTE_MS, 101), (NOW_MS - 5 * MINUTE_MS, 99)])
    got = service.get_entries(SECRET, 10, since(old)).body
    assert [(e["sgv"], e["delta"]) for e in got] == [(99, -2), (101, 0), (125, -5), (130, -10)]
    assert [e["_id"] for e in got[2:]] == [f"lake-{old + 5 * MINUTE_MS}", f"lake-{old}"]
    ((patient, date_from, date_to),) = archive.asked
    assert (date_from, date_to) == (old, CUTOFF_MS - 1)
    assert patient.startswith("p_")  # the site patient's pseudonym, as the lake keys it


def test_the_lake_is_not_read_when_the_store_already_has_count_entries(
    make_service: Make,
) -> None:
    archive = FakeArchive({CUTOFF_MS - DAY_MS: 150})
    service = make_service(entry_archive=archive)
    upload(service, [(NOW_MS - 10 * MINUTE_MS, 101), (NOW_MS - 5 * MINUTE_MS, 99)])
    got = service.get_entries(SECRET, 2, since(CUTOFF_MS - 3 * DAY_MS)).body
    assert [e["sgv"] for e in got] == [99, 101]
    assert archive.asked == []


def test_a_range_wholly_before_the_cutoff_comes_from_the_lake_only(make_service: Make) -> None:
    old = CUTOFF_MS - 5 * DAY_MS
    archive = FakeArchive({old: 180, old + 5 * MINUTE_MS: 60})
    service = make_service(entry_archive=archive)
    # Still in the store (DynamoDB's TTL deletes up to days late): never answered from there,
    # or two instances could answer differently.
    upload(service, [(old + 5 * MINUTE_MS, 61)])
    query = {"find[date][$gte]": [str(old)], "find[date][$lte]": [str(old + DAY_MS)]}
    got = service.get_entries(SECRET, 10, query).body
    assert [(e["sgv"], e["delta"]) for e in got] == [(60, -120), (180, 0)]
    assert archive.asked[0][1:] == (old, old + DAY_MS)


def test_other_find_conditions_apply_to_the_lake_entries_too(make_service: Make) -> None:
    old = CUTOFF_MS - 2 * DAY_MS
    archive = FakeArchive({old + i * 5 * MINUTE_MS: v for i, v in enumerate([50, 65, 80, 62])})
    service = make_service(entry_archive=archive)
    query = {**since(old), "find[sgv][$lt]": ["70"]}
    assert [e["sgv"] for e in service.get_entries(SECRET, 10, query).body] == [62, 65, 50]


def test_an_upper_bound_alone_reads_the_month_before_it(make_service: Make) -> None:
    archive = FakeArchive({CUTOFF_MS - 20 * DAY_MS: 150, CUTOFF_MS - 45 * DAY_MS: 160})
    service = make_service(entry_archive=archive)
    upper = CUTOFF_MS - 10 * DAY_MS
    got = service.get_entries(SECRET, 10, {"find[date][$lte]": [str(upper)]}).body
    assert [e["sgv"] for e in got] == [150]
    assert archive.asked[0][1:] == (upper - 30 * DAY_MS, upper)


def test_a_lake_that_does_not_answer_is_a_503_with_retry_after(make_service: Make) -> None:
    service = make_service(entry_archive=FakeArchive(unavailable=True))
    upload(service, [(NOW_MS - 5 * MINUTE_MS, 99)])
    answer = service.get_entries(SECRET, 10, since(CUTOFF_MS - DAY_MS))
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "5"
    assert "read from the lake" in answer.body["message"]
    assert "timed out" in answer.body["message"]
