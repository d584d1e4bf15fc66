"""The CSV checks Dexcom and LibreView exports share: truncated rows, mixed units, unreadable
values."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import copy, parse


def test_truncated_csv_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 20])  # cut mid-row, as an interrupted download
    with pytest.raises(
        MalformedFile,
        match=r"dexcom_clarity_mgdl.csv:\d+: \d+ fields where the header has 14: the file is trunc",
    ):
        parse(path)


def test_mixed_units_are_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "libreview_eu_mmol.csv")
    lines = path.read_text().splitlines()
    row = lines[40].split(";")
    row[4] = "118"  # mg/dL in the mmol/L column
    lines[40] = ";".join(row)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MalformedFile, match=r"libreview_eu_mmol.csv:41: .*mg/dL\?; the file mixes"):
        parse(path)
    dexcom = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    dexcom.write_text(
        dexcom.read_text().replace(",EGV,,,,Android G6,108,", ",EGV,,,,Android G6,6.0,", 1)
    )
    with pytest.raises(MalformedFile, match="looks like mmol/L: the file mixes units"):
        parse(dexcom)


def test_unreadable_value_in_a_glucose_row_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    path.write_text(
        path.read_text().replace(",EGV,,,,Android G6,108,", ",EGV,,,,Android G6,1O8,", 1)
    )
    with pytest.raises(MalformedFile, match="glucose '1O8' is not a number, Low or High"):
        parse(path)
