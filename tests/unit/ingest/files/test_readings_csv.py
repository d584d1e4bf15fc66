"""CSV input (id,time,gl): time zones, and a clear error for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.ingest.files.readings_csv import CsvInputError, read_readings_csv


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_iglu_columns_with_offsets_and_naive_times_in_the_given_zone(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "id,time,gl\n"
        "a,2026-01-05T07:30:00Z,112\n"
        "a,2026-01-05 08:35:00+01:00,108.5\n"
        "b,2026-07-01 12:00:00,95\n",
    )
    rows = read_readings_csv(path, tz="Europe/Berlin")
    assert [r.measured_at for r in rows[:2]] == [1_767_598_200_000, 1_767_598_500_000]
    assert [r.utc_offset_minutes for r in rows] == [0, 60, 120]  # Berlin in July: CEST
    assert rows[1].glucose_mg_dl == 108.5
    assert rows[2].measured_at == 1_782_900_000_000  # 10:00Z


def test_optional_columns_are_used(tmp_path: Path) -> None:
    path = write(
        tmp_path, "id,time,gl,device_id,utc_offset_minutes\na,2026-01-05T07:30:00Z,99,g7,-300\n"
    )
    (row,) = read_readings_csv(path)
    assert (row.device_id, row.utc_offset_minutes) == ("g7", -300)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,time,gl\na,2026-01-05T07:30:00Z,99\n")
    assert len(read_readings_csv(path)) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("id,time\na,2026-01-05T07:30:00Z\n", "missing column(s) gl"),
        ("id,time,gl\n", "no readings after the header"),
        ("id,time,gl\na,yesterday,100\n", "in.csv:2: time 'yesterday' is not ISO 8601"),
        ("id,time,gl\na,2026-01-05T07:30:00Z,high\n", "in.csv:2: gl 'high' is not a number"),
        ("id,time,gl\na,2026-01-05T07:30:00Z,-4\n", "is not a positive glucose value"),
        ("id,time,gl\na,2026-01-05T07:30:00Z,nan\n", "is not a positive glucose value"),
        ("id,time,gl\n,2026-01-05T07:30:00Z,100\n", "in.csv:2: empty id"),
        ("id,time,gl\na,2026-01-05T07:30:00Z,100,extra\n", "wrong number of fields"),
        ("id,time,gl\na,2026-01-05T07:30:00Z\n", "wrong number of fields"),
        ("id,time,gl\na,2026-01-05T07:30:00Z,100\nb,2026-01-05T07:35:00Z,1e3x\n", "in.csv:3:"),
    ],
)
def test_bad_input_names_file_line_and_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CsvInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_readings_csv(write(tmp_path, text))


def test_not_utf8_missing_file_and_bad_zone(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,time,gl\nJosé,2026-01-05T07:30:00Z,99\n".encode("latin-1"))
    with pytest.raises(CsvInputError, match="not UTF-8"):
        read_readings_csv(latin)
    with pytest.raises(CsvInputError, match="no such file"):
        read_readings_csv(tmp_path / "missing.csv")
    with pytest.raises(CsvInputError, match="unknown time zone 'Mars/Base'"):
        read_readings_csv(write(tmp_path, "id,time,gl\na,2026-01-05T07:30:00Z,99\n"), "Mars/Base")
