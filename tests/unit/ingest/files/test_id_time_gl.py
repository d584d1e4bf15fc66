"""An id,time,gl CSV as an import: the ids come from the file, pseudonymised."""

from __future__ import annotations

from glucosestream.domain.identity import pseudonymise
from tests.unit.ingest.files.exports import FIXTURES, parse
from tests.unit.ingest.support import KEY


def test_id_time_gl_csv_takes_ids_from_the_file() -> None:
    parsed = parse(FIXTURES / "readings_id_time_gl.csv", patient=None)
    assert parsed.format == "csv"
    assert len(parsed.readings) == 48
    assert {r.patient_id for r in parsed.readings} == {
        pseudonymise("clinic-7/patient-0001", KEY),
        pseudonymise("clinic-7/patient-0002", KEY),
    }
