"""A CSV body as string columns with file lines — or None wherever Python's reader could differ."""

from __future__ import annotations

import pytest

from glucosestream.ingest.files.csv_table import FIELD_LIMIT, read_string_table

HEADER = ["id", "time", "gl"]


def test_columns_are_strings_and_lines_count_empty_lines_and_crlf() -> None:
    data = b"id,time,gl\r\na,2026-01-05T07:30:00Z,099\r\n\r\n\r\nb,x, 1\r\nc,,\r\n"
    table = read_string_table(data, HEADER, HEADER)
    assert table is not None
    assert table.columns["gl"].to_pylist() == ["099", " 1", ""]
    assert table.lines.tolist() == [2, 5, 6]


def test_only_wanted_columns_are_kept_and_a_last_line_may_lack_its_break() -> None:
    table = read_string_table(b"id,time,gl,note\na,t,1,x\nb,u,2,y", [*HEADER, "note"], HEADER)
    assert table is not None
    assert list(table.columns) == HEADER
    assert table.lines.tolist() == [2, 3]


def test_quoted_fields_are_read_as_python_reads_them() -> None:
    data = b'id,time,gl\n"a,1",t,"1"\nb,"x""y",2\nc, "q",3\n'
    table = read_string_table(data, HEADER, HEADER)
    assert table is not None
    assert table.columns["id"].to_pylist() == ["a,1", "b", "c"]
    assert table.columns["time"].to_pylist() == ["t", 'x"y', ' "q"']
    assert table.lines.tolist() == [2, 3, 4]


@pytest.mark.parametrize(
    "data",
    [
        b'id,time,gl\na,"2026-01-05\nT07:30:00Z",1\nb,t,2\n',  # a record over two lines
        b"id,time,gl\na,t,1\rb,t,2\n",  # a lone CR: a line end for Python
        b"id,time,gl\na,t,1,extra\n",  # too many fields
        b"id,time,gl\na,t\n",  # too few
        b"id,time,gl\na,\xff,1\n",  # not UTF-8
        b"id,time,gl\n\n",  # no records
        b"id,time,gl\na,t," + b"9" * (FIELD_LIMIT + 1) + b"\n",  # over Python's field limit
    ],
)
def test_what_only_the_row_by_row_reader_reads_exactly_gives_none(data: bytes) -> None:
    assert read_string_table(data, HEADER, HEADER) is None


def test_duplicate_column_names_give_none() -> None:
    assert read_string_table(b"id,time,gl,gl\na,t,1,2\n", [*HEADER, "gl"], HEADER) is None
