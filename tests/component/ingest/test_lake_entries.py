"""Older Nightscout entries from the lake: raw readings curated by the local ELT, then read
through the local query engine (DuckDB running the same Athena SQL the API runs on AWS)."""

from __future__ import annotations

from glucosestream.elt.refresh import run_elt
from glucosestream.ingest.lake_entries import LakeEntries
from glucosestream.local.lake import LocalQueryEngine, local_lake
from glucosestream.settings import Settings
from tests.component.elt.rawdata import MINUTE_MS, Raw, ms, write_raw

PATIENT = "p_" + "a" * 32
START = ms("2024-03-01T23:40")
DAY_MS = 86_400_000


def test_the_lake_answers_one_entry_per_reading_newest_first(settings: Settings) -> None:
    readings = [
        Raw(PATIENT, START + i * 5 * MINUTE_MS, value, utc_offset_minutes=60)
        for i, value in enumerate([118, 121, 125, 131, 140])
    ]
    meter = Raw(PATIENT, START + 12 * MINUTE_MS, 127, source="BGM", device_id="contour-1")
    write_raw(settings, "first", [*readings, meter, Raw("p_other", START, 300)])
    write_raw(settings, "resent", readings[2:4])  # at-least-once: the same readings again
    run_elt(local_lake(settings))
    archive = LakeEntries(lambda: LocalQueryEngine(settings))

    found = archive.entries(PATIENT, START + 5 * MINUTE_MS, START + 20 * MINUTE_MS)

    # The meter reading's value is in mbg, as the read path's store answers it.
    assert [(e["date"], e.get("sgv") or e["mbg"], e["type"]) for e in found] == [
        (START + 20 * MINUTE_MS, 140, "sgv"),
        (START + 15 * MINUTE_MS, 131, "sgv"),
        (START + 12 * MINUTE_MS, 127, "mbg"),
        (START + 10 * MINUTE_MS, 125, "sgv"),
        (START + 5 * MINUTE_MS, 121, "sgv"),
    ]
    assert "sgv" not in found[2]
    newest = found[0]
    assert newest == {
        "_id": f"{PATIENT}-{START + 20 * MINUTE_MS}",
        "type": "sgv",
        "sgv": 140,
        "date": START + 20 * MINUTE_MS,
        "dateString": "2024-03-02T00:00:00.000Z",  # crosses into the next day's partition
        "sysTime": "2024-03-02T00:00:00.000Z",
        "direction": "Flat",
        "device": "d1",
        "utcOffset": 60,
    }
    assert found.before is not None
    assert found.before["sgv"] == 118
    assert archive.entries("p_nobody", START, START + DAY_MS).before is None
