"""Whole files that replace the old ones atomically: the new content or the old, never a part."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from glucosestream.lake.durable_files import atomic_file, atomic_text_file, write_atomically


class Boom(RuntimeError):
    pass


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    write_atomically(target, b'{"new": 1}')
    assert json.loads(target.read_text()) == {"new": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "d" / "b.parquet"
    target.parent.mkdir()

    def write_half_then_fail() -> None:
        with atomic_file(target) as handle:
            handle.write(b"half")
            raise Boom

    with pytest.raises(Boom):
        write_half_then_fail()
    assert list(target.parent.iterdir()) == []

    def write_half_text_then_fail() -> None:
        with atomic_text_file(target, durable=False) as text:
            text.write("half")
            raise Boom

    target.write_bytes(b"old")
    with pytest.raises(Boom):
        write_half_text_then_fail()
    assert target.read_bytes() == b"old"
    assert list(target.parent.iterdir()) == [target]


def test_the_file_is_written_under_the_temporary_name_given(tmp_path: Path) -> None:
    target = tmp_path / "object"
    temporary = tmp_path / ".gs-lake-1234"
    seen: list[str] = []
    with atomic_file(target, temporary=temporary) as handle:
        handle.write(b"x")
        seen = sorted(p.name for p in tmp_path.iterdir())
    assert seen == [".gs-lake-1234"]
    assert target.read_bytes() == b"x"
    assert not temporary.exists()


def test_text_is_utf8_with_the_newline_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "rows.csv"
    with atomic_text_file(target, newline="") as text:
        text.write("glucose,µ\r\n")
    assert target.read_bytes() == "glucose,µ\r\n".encode()


def test_permissions_of_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    write_atomically(target, b"{}", permissions=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
