"""Export files: each format and its variants, detection, and malformed files refused whole."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import ReadingSource, ReadingStatus, Trend
from glucosestream.ingest.files.formats import MalformedFile, ParsedFile, dexcom_trend, parse_file
from tests.unit.ingest.support import KEY

FIXTURES = Path(__file__).parents[3] / "fixtures" / "import"
NOW_MS = 1_800_000_000_000  # 2027: every fixture is in the past


def parse(
    path: Path, fmt: str = "auto", patient: str | None = "alex", tz: str = "Europe/Berlin"
) -> ParsedFile:
    return parse_file(path, fmt, patient=patient, pseudonym_key=KEY, tz=tz, now_ms=NOW_MS)  # type: ignore[arg-type]


def copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(FIXTURES / name, tmp_path / name))


def test_dexcom_clarity_mg_dl() -> None:
    parsed = parse(FIXTURES / "dexcom_clarity_mgdl.csv")
    assert parsed.format == "dexcom"
    assert (parsed.rows_read, len(parsed.readings)) == (154, 144)
    reasons = parsed.skip_reasons()
    assert reasons["patient name row (never imported)"] == 2
    assert reasons["alert setting row"] == 4
    assert sum(reasons.values()) == 10
    first = parsed.readings[0]
    assert first.patient_id == pseudonymise("alex", KEY)
    assert first.measured_at == 1_767_567_751_000  # 2026-01-05T00:02:31+01:00
    assert first.utc_offset_minutes == 60
    assert first.device_id == "dexcom-8RK2QF"
    assert first.source is ReadingSource.IMPORT
    lows = [r for r in parsed.readings if r.status is ReadingStatus.BELOW_SENSOR_RANGE]
    highs = [r for r in parsed.readings if r.status is ReadingStatus.ABOVE_SENSOR_RANGE]
    assert {r.glucose_mg_dl for r in lows} == {39}
    assert len(lows) == 4
    assert {r.glucose_mg_dl for r in highs} == {401}
    assert len(highs) == 2
    assert {r.trend for r in parsed.readings} > {Trend.FLAT, Trend.NOT_COMPUTABLE}


def test_dexcom_clarity_mmol() -> None:
    parsed = parse(FIXTURES / "dexcom_clarity_mmol.csv")
    assert len(parsed.readings) == 36
    assert parsed.readings[0].glucose_mg_dl == round(6.0 * 18.016)


def test_names_in_exports_never_reach_a_reading() -> None:
    for name in ("dexcom_clarity_mgdl.csv", "libreview_us_mgdl.csv"):
        readings = parse(FIXTURES / name).readings
        assert readings, name
        for reading in readings:
            assert "Alex" not in repr(reading)
            assert "Example" not in repr(reading)


def test_libreview_us_mg_dl_with_scans_strips_and_events() -> None:
    parsed = parse(FIXTURES / "libreview_us_mgdl.csv", tz="America/New_York")
    assert parsed.format == "libre"
    assert (parsed.rows_read, len(parsed.readings)) == (215, 212)
    assert parsed.skip_reasons() == {
        "insulin event, not glucose": 1,
        "food event, not glucose": 1,
        "ketone reading, not glucose": 1,
    }
    first = parsed.readings[0]
    assert first.measured_at == 1_768_194_420_000  # 01-12-2026 12:07 AM in New York = 05:07Z
    assert first.utc_offset_minutes == -300
    assert [r.source for r in parsed.readings].count(ReadingSource.BGM) == 1  # the strip
    assert {r.glucose_mg_dl for r in parsed.readings if r.status is not ReadingStatus.OK} >= {
        39,
        501,
    }


def test_libreview_eu_mmol_semicolons_and_decimal_comma() -> None:
    parsed = parse(FIXTURES / "libreview_eu_mmol.csv")
    assert (len(parsed.readings), parsed.skip_reasons()) == (
        192,
        {"time change event, not glucose": 1},
    )
    assert parsed.readings[0].glucose_mg_dl == round(6.0 * 18.016)
    # DD-MM-YYYY: the 13th of January exists, so the order was settled day-first.
    assert parsed.readings[-1].measured_at == 1_768_344_720_000  # 13-01-2026 23:52 +01:00


def libre_file(path: Path, stamps: list[str]) -> Path:
    header = (FIXTURES / "libreview_us_mgdl.csv").read_text().splitlines()[:2]
    rows = [
        f"FreeStyle LibreLink,ABC,{stamp},0,{100 + i}" + "," * 14 for i, stamp in enumerate(stamps)
    ]
    path.write_text("\n".join(header + rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        # 24-hour, a first field over 12: day first (EU).
        (["12-01-2026 00:07", "13-01-2026 00:07"], ["2026-01-12T00:07", "2026-01-13T00:07"]),
        # 24-hour, a second field over 12: month first.
        (["01-12-2026 00:07", "01-13-2026 00:07"], ["2026-01-12T00:07", "2026-01-13T00:07"]),
        # AM/PM and nothing over 12: month first (US).
        (["01-12-2026 12:07 AM", "01-12-2026 1:07 PM"], ["2026-01-12T00:07", "2026-01-12T13:07"]),
        # 24-hour and nothing over 12: day first (EU).
        (["01-12-2026 00:07", "02-12-2026 00:07"], ["2026-12-01T00:07", "2026-12-02T00:07"]),
    ],
)
def test_libre_date_order_follows_the_whole_file(
    tmp_path: Path, stamps: list[str], expected: list[str]
) -> None:
    parsed = parse(libre_file(tmp_path / "libre.csv", stamps), tz="UTC")
    got = [
        datetime.fromtimestamp(r.measured_at / 1000, UTC).strftime("%Y-%m-%dT%H:%M")
        for r in parsed.readings
    ]
    assert got == expected


def test_libre_dates_that_contradict_each_other_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MalformedFile, match="mix day-first and month-first"):
        parse(libre_file(tmp_path / "libre.csv", ["13-01-2026 00:07", "01-13-2026 00:07"]))


def test_nightscout_export() -> None:
    parsed = parse(FIXTURES / "nightscout_entries.json")
    assert parsed.format == "nightscout"
    assert (parsed.rows_read, len(parsed.readings)) == (51, 49)
    assert len(parsed.skipped) == 2
    assert {r.source for r in parsed.readings} == {ReadingSource.IMPORT, ReadingSource.BGM}


def test_id_time_gl_csv_takes_ids_from_the_file() -> None:
    parsed = parse(FIXTURES / "readings_id_time_gl.csv", patient=None)
    assert parsed.format == "csv"
    assert len(parsed.readings) == 48
    assert {r.patient_id for r in parsed.readings} == {
        pseudonymise("clinic-7/patient-0001", KEY),
        pseudonymise("clinic-7/patient-0002", KEY),
    }


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


def test_truncated_csv_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 20])  # cut mid-row, as an interrupted download
    with pytest.raises(
        MalformedFile,
        match=r"dexcom_clarity_mgdl.csv:\d+: \d+ fields where the header has 14: the file is trunc",
    ):
        parse(path)


def test_truncated_json_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "nightscout_entries.json")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(MalformedFile, match=r"not valid JSON .* truncated or damaged"):
        parse(path)


def test_wrong_encoding_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "libreview_eu_mmol.csv")
    path.write_bytes(path.read_text().replace("Alex Beispiel", "Jürgen Müller").encode("latin-1"))
    with pytest.raises(MalformedFile, match=r"not UTF-8 text \(byte 0xfc at offset \d+\)"):
        parse(path)


def test_utf16_exports_are_read(tmp_path: Path) -> None:
    path = copy(tmp_path, "libreview_eu_mmol.csv")
    path.write_bytes(path.read_text().encode("utf-16"))
    assert len(parse(path).readings) == 192


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


def test_concatenated_exports_are_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    text = path.read_text()
    path.write_text(text + text)
    with pytest.raises(MalformedFile, match="a second header row"):
        parse(path)


def test_unreadable_value_in_a_glucose_row_is_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    path.write_text(
        path.read_text().replace(",EGV,,,,Android G6,108,", ",EGV,,,,Android G6,1O8,", 1)
    )
    with pytest.raises(MalformedFile, match="glucose '1O8' is not a number, Low or High"):
        parse(path)


@pytest.mark.parametrize(
    ("rate", "trend"),
    [
        (None, Trend.NOT_COMPUTABLE),
        (3.5, Trend.DOUBLE_UP),
        (2.5, Trend.SINGLE_UP),
        (1.5, Trend.FORTY_FIVE_UP),
        (0.0, Trend.FLAT),
        (-1.0, Trend.FLAT),
        (-1.5, Trend.FORTY_FIVE_DOWN),
        (-2.5, Trend.SINGLE_DOWN),
        (-3.5, Trend.DOUBLE_DOWN),
    ],
)
def test_dexcom_rate_of_change_gives_the_arrow(rate: float | None, trend: Trend) -> None:
    assert dexcom_trend(rate) is trend
