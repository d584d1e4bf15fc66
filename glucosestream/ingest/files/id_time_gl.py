"""An ``id,time,gl`` CSV (:mod:`glucosestream.ingest.files.readings_csv`) as an import: many
patients, their ids in the file, pseudonymised unless they already are."""

from __future__ import annotations

import re
from pathlib import Path

from glucosestream.domain.identity import PSEUDONYM_PREFIX, pseudonymise
from glucosestream.domain.reading import ReadingSource, Trend, sensor_status
from glucosestream.ingest.files.parsed_file import MalformedFile, ParsedFile, checked_reading
from glucosestream.ingest.files.readings_csv import CsvInputError, read_csv_input
from glucosestream.ingest.units import Unit

_PSEUDONYM = re.compile(rf"^{PSEUDONYM_PREFIX}[0-9a-f]{{32}}$")


def parse_id_time_gl(
    path: Path, tz: str, pseudonym_key: bytes, now_ms: int, unit: Unit = "mg/dL"
) -> ParsedFile:
    try:
        csv_input = read_csv_input(path, tz, unit)
    except CsvInputError as error:
        raise MalformedFile(str(error)) from None
    rows = csv_input.rows
    parsed = ParsedFile("csv", rows_read=len(rows), local_times=csv_input.local_times)
    for number, row in zip(csv_input.lines, rows, strict=True):
        # Files written by `glucosestream simulate --out` already hold pseudonyms: keep them, so
        # that a file round-trips to the same identities.
        patient_id = (
            row.patient_id
            if _PSEUDONYM.match(row.patient_id)
            else pseudonymise(row.patient_id, pseudonym_key)
        )
        glucose = round(row.glucose_mg_dl)
        parsed.readings.append(
            checked_reading(
                patient_id,
                row.device_id or "import",
                (row.measured_at, row.utc_offset_minutes),
                (glucose, sensor_status(glucose)),
                Trend.NOT_COMPUTABLE,
                ReadingSource.IMPORT,
                now_ms,
                f"{path}:{number}",
            )
        )
    # After pseudonymisation: two source ids never share a pseudonym, so the count is the same.
    parsed.conflicts = csv_input.conflicts
    return parsed
