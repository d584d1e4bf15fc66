"""Nightscout JSON exports: an array of entries as ``/api/v1/entries.json`` returns them, each
converted as the Nightscout-compatible API converts it (:mod:`glucosestream.ingest.nightscout`)."""

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
        if not isinstance(entry, dict):
            raise MalformedFile(f"{path}: entry {number} is not an object")
        try:
            reading = nightscout.reading_from_entry(entry, patient, pseudonym_key, now_ms)
        except (nightscout.EntryError, InvalidReading) as error:
            parsed.skipped.append((number, str(error)))
            continue
        if reading is None:
            parsed.skipped.append((number, "cal entries carry no glucose"))
            continue
        if reading.source is ReadingSource.CGM:
            reading = replace(reading, source=ReadingSource.IMPORT)
        parsed.readings.append(reading)
        entry_numbers.append(f"{path}: entry {number}")
    parsed.conflicts = readings_conflicts(parsed.readings, entry_numbers)
    return parsed
