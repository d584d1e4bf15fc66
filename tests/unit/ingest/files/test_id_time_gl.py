"""An id,time,gl CSV as an import: the ids come from the file, pseudonymised."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.domain.identity import pseudonymise
from glucosestream.ingest.files.formats import parse_file
from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import FIXTURES, NOW_MS, parse
from tests.unit.ingest.support import KEY


def test_id_time_gl_csv_takes_ids_from_the_file() -> None:
    parsed = parse(FIXTURES / "readings_id_time_gl.csv", patient=None)
    assert parsed.format == "csv"
    assert len(parsed.readings) == 48
    assert {r.patient_id for r in parsed.readings} == {
        pseudonymise("clinic-7/patient-0001", KEY),
        pseudonymise("clinic-7/patient-0002", KEY),
    }


def test_an_id_time_gl_csv_in_mmol_is_imported_in_whole_mg_dl(tmp_path: Path) -> None:
    path = tmp_path / "mmol.csv"
    path.write_text("id,time,gl\npt1,2026-01-05T00:00:00,5.5\npt1,2026-01-05T00:05:00,6.7\n")
    parsed = parse_file(path, "auto", patient=None, pseudonym_key=KEY, unit="mmol/L", now_ms=NOW_MS)
    assert [r.glucose_mg_dl for r in parsed.readings] == [99, 121]


def test_an_id_time_gl_csv_in_mmol_imported_as_mg_dl_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mmol.csv"
    path.write_text("id,time,gl\npt1,2026-01-05T00:00:00,5.5\npt1,2026-01-05T00:05:00,6.7\n")
    with pytest.raises(MalformedFile, match="looks like mmol/L, not mg/dL; pass --units mmol/L"):
        parse(path, patient=None)


def test_a_reading_later_than_now_stops_the_import(tmp_path: Path) -> None:
    # 2027-01-15T08:06Z is 6 minutes after NOW_MS: past the 5 minutes of clock skew the gate
    # allows; 08:04 is within them.
    path = tmp_path / "ahead.csv"
    path.write_text("id,time,gl\npt1,2027-01-15T08:04:00Z,120\npt1,2027-01-15T08:06:00Z,125\n")
    with pytest.raises(
        MalformedFile,
        match=r"1 reading\(s\) later than now, the first at "
        r"2027-01-15T08:06:00\+00:00 \(6 minutes ahead\)",
    ):
        parse(path, patient=None)
    path.write_text("id,time,gl\npt1,2027-01-15T08:04:00Z,120\n")
    assert len(parse(path, patient=None).readings) == 1


def test_units_for_a_vendor_export_are_refused() -> None:
    with pytest.raises(MalformedFile, match="--units applies to an id,time,gl CSV"):
        parse_file(
            FIXTURES / "dexcom_clarity_mmol.csv",
            "auto",
            patient="alex",
            pseudonym_key=KEY,
            unit="mmol/L",
            now_ms=NOW_MS,
        )
