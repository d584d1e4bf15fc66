"""Nightscout JSON exports: entries as readings, meter entries as BGM, entries that are not
glucose skipped and counted, a damaged entry or truncated JSON refusing the whole file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glucosestream.cli import main as cli
from glucosestream.domain.reading import ReadingSource
from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import FIXTURES, copy, parse

DATE = 1_770_800_000_000  # 2026-02-11T09:53:20+01:00
GOOD = {"type": "sgv", "sgv": 120, "date": DATE, "direction": "Flat", "device": "xDrip-DexcomG6"}


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


def export(tmp_path: Path, *entries: object) -> Path:
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(list(entries)), encoding="utf-8")
    return path


def test_cal_entries_and_dexcom_error_codes_are_skipped_and_counted_per_reason(
    tmp_path: Path,
) -> None:
    # Given an export as Nightscout holds it: readings, a calibration, and the sensor's error
    # codes (5: ?NC, 0 and 10: ???) in sgv between them
    path = export(
        tmp_path,
        GOOD,
        {"type": "cal", "slope": 1000, "intercept": 0, "scale": 1, "date": DATE + 60_000},
        {**GOOD, "sgv": 5, "date": DATE + 300_000},
        {**GOOD, "sgv": 0, "date": DATE + 600_000},
        {**GOOD, "sgv": 10.0, "date": DATE + 900_000},
        {**GOOD, "sgv": 39, "date": DATE + 1_200_000},
    )
    # When it is parsed
    parsed = parse(path)
    # Then the readings are imported and the rest counted under one reason per kind
    assert [r.glucose_mg_dl for r in parsed.readings] == [120, 39]
    assert parsed.skip_reasons() == {
        "cal entries carry no glucose": 1,
        "sgv under 39: a Dexcom error code (sensor not ready, no antenna, ...), not a glucose "
        "value": 3,
    }
    assert [number for number, _ in parsed.skipped] == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("damaged", "reason"),
    [
        ({**GOOD, "sgv": "abc"}, "sgv must be a number, got str"),
        (
            {**GOOD, "date": DATE // 1000},
            f"date {DATE // 1000} looks like seconds since the epoch; send milliseconds",
        ),
        ({**GOOD, "sgv": 99999}, "glucose_mg_dl 99999 is not within 1-10000"),
        ({**GOOD, "sgv": -50}, "sgv -50 is negative: not a glucose value"),
        ({**GOOD, "sgv": 5.5}, "sgv 5.5 is below 39 and not a Dexcom error code"),
        ({**GOOD, "direction": "Sideways"}, "direction 'Sideways' is not one of"),
        ({**GOOD, "type": "treatment"}, "type 'treatment' is not sgv, mbg or cal"),
        ("120", "a str, not an object"),
    ],
)
def test_a_damaged_entry_refuses_the_file_naming_the_entry(
    damaged: object, reason: str, tmp_path: Path
) -> None:
    # Given an export whose second of three entries is damaged (edited, or written by a broken
    # uploader): such entries were skipped and the rest imported
    path = export(tmp_path, GOOD, damaged, {**GOOD, "date": DATE + 300_000})
    # When it is parsed, then the whole file is refused at that entry, with the reason
    with pytest.raises(MalformedFile) as refused:
        parse(path)
    assert str(refused.value).startswith(f"{path}: entry 2: {reason}")


def test_cli_nightscout_export_with_a_damaged_entry_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GS_STATE_DIR", str(tmp_path / "state"))
    path = export(tmp_path, GOOD, {**GOOD, "sgv": -50, "date": DATE + 300_000})

    code = cli.main(["import", str(path), "--patient", "alex", "--to-lake"])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        f"glucosestream: error: {path}: entry 2: sgv -50 is negative: not a glucose value "
        "(nothing imported)\n"
    )
    assert not (tmp_path / "state" / "lake").exists()
