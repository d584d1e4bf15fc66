"""CSV input (id,time,gl): time zones, and a clear error for every kind of bad input."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from glucosestream.ingest.files import readings_csv
from glucosestream.ingest.files.readings_csv import (
    CsvInput,
    CsvInputError,
    CsvReading,
    read_csv_input,
    read_readings_csv,
)


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


# The columnar reader and the row-by-row one (what any file it cannot read exactly falls back to).

GOOD = "a,2026-01-05T07:30:00Z,100\n"


def row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file read row by row, as when the columnar reader declines one."""
    monkeypatch.setattr(readings_csv, "read_string_table", lambda *args: None)


def read_both(path: Path, tz: str, monkeypatch: pytest.MonkeyPatch) -> tuple[CsvInput, CsvInput]:
    declined: list[bool] = []
    columnar = readings_csv.read_string_table

    def spy(*args: Any) -> Any:
        table = columnar(*args)
        declined.append(table is None)
        return table

    with monkeypatch.context() as patch:
        patch.setattr(readings_csv, "read_string_table", spy)
        fast = read_csv_input(path, tz)
    assert declined == [False], "the columnar reader read the file"
    with monkeypatch.context() as patch:
        row_by_row(patch)
        exact = read_csv_input(path, tz)
    return fast, exact


def assert_same(fast: CsvInput, exact: CsvInput) -> None:
    assert fast.rows == exact.rows
    assert fast.lines == exact.lines
    assert fast.local_times == exact.local_times
    assert fast.conflicts == exact.conflicts
    assert fast.columns.equals(exact.columns)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("a,yesterday,100", "time 'yesterday' is not ISO 8601"),
        ("a,2026-01-05T07:30:00Z,high", "gl 'high' is not a number"),
        ("a,2026-01-05T07:30:00Z,0", "gl '0' is not a positive glucose value"),
        ("a,2026-01-05T07:30:00Z,inf", "gl 'inf' is not a positive glucose value"),
        (" ,2026-01-05T07:30:00Z,100", "empty id"),
        ("a,2026-02-30T07:30:00Z,100", "time '2026-02-30T07:30:00Z' is not ISO 8601"),
        ("a,2026-01-05T07:30:00Z,100,x", "wrong number of fields"),
        ("a,2026-01-05T07:30:00Z", "wrong number of fields"),
    ],
)
def test_a_bad_row_deep_in_a_file_is_named_by_its_file_line(
    tmp_path: Path, bad_row: str, message: str
) -> None:
    # Given 1,000 good rows, an empty line (counted by the file, skipped by the reader), the bad
    # row at line 1,003 and more good rows after it
    text = "id,time,gl\n" + GOOD * 1000 + "\n" + bad_row + "\n" + GOOD * 10
    path = write(tmp_path, text)

    # Then the read stops there, naming the line and the reason
    with pytest.raises(CsvInputError) as raised:
        read_readings_csv(path)
    assert str(raised.value) == f"{path}:1003: {message}"


def test_the_first_bad_row_is_named_whichever_way_each_is_read(tmp_path: Path) -> None:
    # A value left to the row-by-row reader (valid), then two bad rows: the first one wins
    text = "id,time,gl\n" + GOOD + "a,2026-01-05T07:35,1e2\na,2026-01-05T07:40:00Z,-1\na,x,1\n"
    with pytest.raises(CsvInputError, match=r"in.csv:4: gl '-1' is not a positive"):
        read_readings_csv(write(tmp_path, text))


def test_bad_offset_column_and_quoted_line_break_name_their_lines(tmp_path: Path) -> None:
    header = "id,time,gl,utc_offset_minutes\n"
    with pytest.raises(CsvInputError, match=r"in.csv:3: utc_offset_minutes is not a whole"):
        read_readings_csv(write(tmp_path, header + GOOD[:-1] + ",60\na,2026-01-05,1,1.5\n"))
    # A quoted value over two lines: read row by row; the next row's line counts both lines.
    text = 'id,time,gl,note\na,2026-01-05T07:30:00Z,100,"two\nlines"\nb,never,1,\n'
    with pytest.raises(CsvInputError, match=r"in.csv:4: time 'never' is not ISO 8601"):
        read_readings_csv(write(tmp_path, text))
    good = 'id,time,gl,note\na,2026-01-05T07:30:00Z,100,"two\nlines"\nb,2026-01-05,1,\n'
    assert read_csv_input(write(tmp_path, good)).lines == [3, 4]


def realistic_file(rng: random.Random) -> str:
    """Two patients' naive wall times across Berlin's 2026 autumn change (one device newest
    first), times with offsets and Z, naive times with utc_offset_minutes, quoted and padded
    values, a duplicate, a conflict, values only Python reads (``1e2``, ``2026-10-25T01:07``)."""
    lines = ["device_id,id,time,gl,utc_offset_minutes,note"]
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    berlin = ZoneInfo("Europe/Berlin")
    for patient, newest_first in (("p1", False), ("p2", True)):
        block = []
        for n in range(60):
            moment = start + timedelta(minutes=5 * n, seconds=rng.randint(-20, 20))
            wall = moment.astimezone(berlin).replace(tzinfo=None)
            block.append(f"g7,{patient},{wall:%Y-%m-%d %H:%M:%S},{rng.randint(40, 400)},,")
        lines += block[::-1] if newest_first else block
    for n in range(40):
        moment = start + timedelta(minutes=5 * n)
        choice = rng.randint(0, 5)
        if choice == 0:
            time = moment.astimezone(timezone(timedelta(hours=-5))).isoformat()
        elif choice == 1:
            time = f"{moment:%Y-%m-%dT%H:%M:%S}.{rng.randint(0, 999):03d}Z"
        elif choice == 2:
            time = f"{moment + timedelta(minutes=120):%Y-%m-%d %H:%M:%S}"
        elif choice == 3:
            time = f"{moment:%Y-%m-%dT%H:%M}"  # no seconds: Python reads it
        else:
            time = moment.isoformat(timespec="microseconds")
        offset = "120" if choice == 2 else rng.choice(["", "-300"])
        glucose = rng.choice(["100", "101.5", "1e2", " 99 ", '"120"'])
        patient = rng.choice(["q1", '"q,2"', " q3 "])
        lines.append(f'"",{patient},{time},{glucose},{offset},"note ""{n}"""')
    lines.append(lines[-1])  # a duplicate delivery
    lines.append(lines[-1].replace(",100,", ",180,").replace(",101.5,", ",180,"))  # a conflict?
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("seed", range(12))
def test_columnar_and_row_by_row_readers_give_identical_readings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # Given a realistic file (DST naive times, offsets, utc_offset_minutes, quoting, CRLF, BOM)
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbf" + realistic_file(random.Random(seed)).encode())

    # When it is read as columns and row by row, Then every reading, line and report is equal
    fast, exact = read_both(path, "Europe/Berlin", monkeypatch)
    assert_same(fast, exact)
    assert fast.local_times.changed_anything  # the repeated hour was really in the file


def test_simulator_style_and_naive_utc_files_are_identical_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = ["id,time,gl,device_id,session_id,utc_offset_minutes"]
    rows += [
        f"p{n % 3},2026-01-05T{n // 60 % 24:02d}:{n % 60:02d}:01.{n % 1000:03d}Z,{90 + n % 50},"
        f"d{n % 2},s,{-300 if n % 3 else 60}"
        for n in range(3000)
    ]
    path = write(tmp_path, "\n".join(rows) + "\n")
    assert_same(*read_both(path, "UTC", monkeypatch))
    naive = write(tmp_path, "id,time,gl\n" + "".join(
        f"s{n % 4},2026-01-{5 + n // 1440:02d} {n // 60 % 24:02d}:{n % 60:02d}:00,{70 + n % 90}\n"
        for n in range(5000)), "naive.csv")  # fmt: skip
    fast, exact = read_both(naive, "UTC", monkeypatch)
    assert_same(fast, exact)
    assert fast.rows[0] == CsvReading("s0", 1_767_571_200_000, 70.0, 0, "")
    assert fast.conflicts.identities == 0


MMOL_ROWS = "id,time,gl\npt1,2026-01-05T00:00:00,5.5\npt1,2026-01-05T00:05:00,3.9\n"
"""Readings of a meter in mmol/L (the tester's file: 5.5-6.7 every 5 minutes)."""


def test_a_file_of_mmol_values_read_as_mg_dl_is_refused(tmp_path: Path) -> None:
    # Given a file whose every gl is at most 35 (mmol/L: no CGM reports a whole file that low)
    path = write(tmp_path, MMOL_ROWS + "pt1,2026-01-05T00:10:00,6.7\n")
    # When it is read as mg/dL (the default), then it is refused in one line saying what to do
    with pytest.raises(
        CsvInputError,
        match=r"in\.csv: every gl value is at most 6\.7: the file looks like mmol/L, not mg/dL; "
        r"pass --units mmol/L to convert it$",
    ):
        read_csv_input(path)


def test_a_mg_dl_file_with_a_value_over_35_is_read_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, MMOL_ROWS + "pt1,2026-01-05T00:10:00,35.5\n")
    assert [r.glucose_mg_dl for r in read_readings_csv(path)] == [5.5, 3.9, 35.5]


def test_mmol_values_are_converted_as_the_importers_convert(tmp_path: Path) -> None:
    from glucosestream.domain.reading import mmol_l_to_mg_dl

    path = write(tmp_path, MMOL_ROWS + "pt1,2026-01-05T00:10:00,22.2\n")
    rows = read_readings_csv(path, unit="mmol/L")
    assert [r.glucose_mg_dl for r in rows] == [99, 70, 400]
    assert [r.glucose_mg_dl for r in rows] == [mmol_l_to_mg_dl(v) for v in (5.5, 3.9, 22.2)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("120", "glucose 120 mmol/L is implausible (> 40): is it mg/dL?"),
        ("0.01", "glucose 0.01 mmol/L is not within 1-10000 mg/dL"),
    ],
)
def test_a_value_that_is_no_mmol_reading_is_refused_at_its_line(
    tmp_path: Path, value: str, reason: str
) -> None:
    path = write(tmp_path, MMOL_ROWS + f"pt1,2026-01-05T00:10:00,{value}\n")
    with pytest.raises(CsvInputError) as refused:
        read_csv_input(path, unit="mmol/L")
    assert str(refused.value) == f"{path}:4: {reason}"
