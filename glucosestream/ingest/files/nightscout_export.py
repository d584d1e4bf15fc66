"""Nightscout JSON exports: an array of entries as ``/api/v1/entries.json`` returns them, each
converted as the Nightscout-compatible API converts it (:mod:`glucosestream.ingest.nightscout`).

Entries that hold no glucose by design (``cal``, Dexcom error codes in ``sgv``) are skipped and
counted. Any other entry the conversion refuses (a value that is not a number, a date in seconds,
a negative or out-of-range value, an unknown direction) means the file is damaged or edited: the
import stops at that entry and nothing is imported, as for every other format. The API, which
receives live uploads, refuses such entries one by one instead.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from glucosestream.domain.reading import InvalidReading, ReadingSource
from glucosestream.ingest import nightscout
from glucosestream.ingest.files.parsed_file import MalformedFile, ParsedFile, readings_conflicts


def parse_nightscout(
    text: str, path: Path, patient: str, pseudonym_key: bytes, now_ms: int
) -> ParsedFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedFile(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno}): "
            "truncated or damaged"
        ) from None
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise MalformedFile(f"{path}: a Nightscout export is a JSON array of entries")
    parsed = ParsedFile("nightscout", rows_read=len(document))
    entry_numbers: list[str] = []
    for number, entry in enumerate(document, 1):
        where = f"{path}: entry {number}"
        if not isinstance(entry, dict):
            raise MalformedFile(f"{where}: a {type(entry).__name__}, not an object")
        try:
            reading = nightscout.reading_from_entry(entry, patient, pseudonym_key, now_ms)
        except nightscout.NotGlucose:
            parsed.skipped.append((number, nightscout.DEXCOM_ERROR_CODE))
            continue
        except (nightscout.EntryError, InvalidReading) as error:
            raise MalformedFile(f"{where}: {error}") from None
        if reading is None:
            parsed.skipped.append((number, "cal entries carry no glucose"))
            continue
        if reading.source is ReadingSource.CGM:
            reading = replace(reading, source=ReadingSource.IMPORT)
        parsed.readings.append(reading)
        entry_numbers.append(where)
    parsed.conflicts = readings_conflicts(parsed.readings, entry_numbers)
    return parsed
