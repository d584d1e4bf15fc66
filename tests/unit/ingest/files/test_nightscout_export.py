"""Nightscout JSON exports: entries as readings, meter entries as BGM, truncated JSON refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.domain.reading import ReadingSource
from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import FIXTURES, copy, parse


def test_nightscout_export() -> None:
    parsed = parse(FIXTURES / "nightscout_entries.json")
    assert parsed.format == "nightscout"
    assert (parsed.rows_read, len(parsed.readings)) == (51, 49)
    assert len(parsed.skipped) == 2
    assert {r.source for r in parsed.readings} == {ReadingSource.IMPORT, ReadingSource.BGM}


def test_truncated_json_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "nightscout_entries.json")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(MalformedFile, match=r"not valid JSON .* truncated or damaged"):
        parse(path)
