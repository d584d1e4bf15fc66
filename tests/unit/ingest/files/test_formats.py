"""Reading any export: the format detected or forced, the encodings, and names never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import FIXTURES, copy, parse


def test_names_in_exports_never_reach_a_reading() -> None:
    for name in ("dexcom_clarity_mgdl.csv", "libreview_us_mgdl.csv"):
        readings = parse(FIXTURES / name).readings
        assert readings, name
        for reading in readings:
            assert "Alex" not in repr(reading)
            assert "Example" not in repr(reading)


def test_forced_format_and_detection_failures(tmp_path: Path) -> None:
    with pytest.raises(MalformedFile, match="no column 'Event Type'"):
        parse(FIXTURES / "libreview_us_mgdl.csv", "dexcom")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello,world\n1,2\n")
    with pytest.raises(MalformedFile, match="cannot tell the format"):
        parse(unknown)
    with pytest.raises(MalformedFile, match="--patient"):
        parse(FIXTURES / "dexcom_clarity_mgdl.csv", patient=None)
    with pytest.raises(MalformedFile, match="--patient does not apply"):
        parse(FIXTURES / "readings_id_time_gl.csv", patient="alex")


def test_wrong_encoding_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "libreview_eu_mmol.csv")
    path.write_bytes(path.read_text().replace("Alex Beispiel", "Jürgen Müller").encode("latin-1"))
    with pytest.raises(MalformedFile, match=r"not UTF-8 text \(byte 0xfc at offset \d+\)"):
        parse(path)


def test_utf16_exports_are_read(tmp_path: Path) -> None:
    path = copy(tmp_path, "libreview_eu_mmol.csv")
    path.write_bytes(path.read_text().encode("utf-16"))
    assert len(parse(path).readings) == 192


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel 97-2003 .xls workbook"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF"),
        (b"\x1f\x8b\x08\x00" + bytes(40), "a gzip archive"),
        (b"\x00\x01\x02glucose\x00", "a binary file, not text"),
        (b"PK\x03\x04not really a workbook", "not a readable Excel workbook"),
    ],
)
def test_binary_files_name_the_supported_formats(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "export.bin"
    path.write_bytes(content)
    with pytest.raises(MalformedFile) as refused:
        parse(path)
    message = str(refused.value)
    assert what in message
    assert "GlucoseStream imports Dexcom Clarity CSV or .xlsx, LibreView CSV" in message
    assert "UTF-8" not in message


def european_locale_save(source: Path, target: Path) -> Path:
    """The export as a European-locale spreadsheet saves it: ';' between fields, ',' decimals."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    for row in csv.reader(io.StringIO(source.read_text())):
        writer.writerow(
            [c.replace(".", ",") if c.replace(".", "", 1).lstrip("-").isdigit() else c for c in row]
        )
    target.write_text(out.getvalue())
    return target


# (libreview_eu_mmol.csv is already such a save, read by the tests above.)
@pytest.mark.parametrize("name", ["dexcom_clarity_mmol.csv", "dexcom_clarity_mgdl.csv"])
def test_a_european_locale_save_reads_the_same_readings(tmp_path: Path, name: str) -> None:
    saved = european_locale_save(FIXTURES / name, tmp_path / name)
    assert ";" in saved.read_text().splitlines()[-1]
    original = parse(FIXTURES / name).readings
    assert original
    assert parse(saved).readings == original
