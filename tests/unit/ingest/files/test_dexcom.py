"""Dexcom Clarity exports: EGV rows kept, the rest skipped with reasons, the rate as the arrow."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.domain.identity import pseudonymise
from glucosestream.domain.reading import ReadingSource, ReadingStatus, Trend
from glucosestream.ingest.files.dexcom import dexcom_trend
from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import FIXTURES, copy, parse
from tests.unit.ingest.support import KEY


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


def test_concatenated_exports_are_refused(tmp_path: Path) -> None:
    path = copy(tmp_path, "dexcom_clarity_mgdl.csv")
    text = path.read_text()
    path.write_text(text + text)
    with pytest.raises(MalformedFile, match="a second header row"):
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


CLARITY_HEADER = (
    "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,"
    "Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),"
    "Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),"
    "Transmitter ID"
)


def clarity_export(tmp_path: Path, *stamps: str) -> Path:
    """A small Clarity CSV: one 120 mg/dL EGV row per timestamp."""
    rows = [f"{n},{stamp},EGV,,,,G6,120,,,,,{n},TX1" for n, stamp in enumerate(stamps, 1)]
    path = tmp_path / "clarity.csv"
    path.write_text("\n".join([CLARITY_HEADER, *rows]) + "\n")
    return path


def test_a_timestamp_with_an_offset_or_z_is_that_instant(tmp_path: Path) -> None:
    # Given a Berlin import whose rows carry +05:00, Z, and no offset (the receiver's clock)
    path = clarity_export(
        tmp_path, "2026-02-03T08:00:00+05:00", "2026-02-03T08:00:00Z", "2026-02-03T10:00:00"
    )
    # When it is parsed with --tz Europe/Berlin
    readings = parse(path, tz="Europe/Berlin").readings
    # Then the offset times are those instants, their offsets kept; the naive one is Berlin's
    measured = [(r.measured_at, r.utc_offset_minutes) for r in readings]
    assert measured == [
        (1_770_087_600_000, 300),  # 2026-02-03T03:00:00Z
        (1_770_087_600_000 + 5 * 3_600_000, 0),  # 08:00Z
        (1_770_087_600_000 + 6 * 3_600_000, 60),  # 10:00+01:00 = 09:00Z
    ]


def test_a_date_without_a_time_of_day_is_refused(tmp_path: Path) -> None:
    # Given an EGV row stamped with a date alone (it was read as midnight)
    path = clarity_export(tmp_path, "2026-02-03T07:55:00", "2026-02-03")
    # When it is parsed, then the file is refused at that line, with the expected format
    with pytest.raises(
        MalformedFile,
        match=r"clarity\.csv:3: timestamp '2026-02-03' has no time of day; expected "
        r"YYYY-MM-DDThh:mm:ss$",
    ):
        parse(path)


def test_an_unreadable_timestamp_names_its_line_and_the_format(tmp_path: Path) -> None:
    path = clarity_export(tmp_path, "03/02/2026 08:00")
    with pytest.raises(
        MalformedFile,
        match=r"clarity\.csv:2: timestamp '03/02/2026 08:00' is not a date and time; expected "
        r"YYYY-MM-DDThh:mm:ss$",
    ):
        parse(path)


def test_an_export_without_a_transmitter_id_column_names_the_source_device(
    tmp_path: Path,
) -> None:
    # Given an older Clarity export: 13 columns, ending at Transmitter Time
    path = tmp_path / "clarity_old.csv"
    path.write_text(
        CLARITY_HEADER.removesuffix(",Transmitter ID")
        + "\n1,2026-04-01T08:00:00,EGV,,,,G6,120,,,,,1\n"
    )
    # When it is parsed, then the reading is imported with the Source Device ID as its device
    [reading] = parse(path).readings
    assert (reading.device_id, reading.glucose_mg_dl) == ("dexcom-G6", 120)


def clarity_values(tmp_path: Path, *values: str, unit: str = "mg/dL") -> Path:
    """A small Clarity CSV in ``unit``: one EGV row per glucose cell, five minutes apart."""
    rows = [
        f"{n},2026-04-01T08:{5 * n:02d}:00,EGV,,,,G6,{value},,,,,{300 * n},TX9"
        for n, value in enumerate(values, 1)
    ]
    path = tmp_path / "clarity.csv"
    path.write_text("\n".join([CLARITY_HEADER.replace("mg/dL", unit), *rows]) + "\n")
    return path


def test_low_high_and_the_sensor_range_edges_are_imported(tmp_path: Path) -> None:
    readings = parse(clarity_values(tmp_path, "Low", "40", "400", "High")).readings
    assert [(r.glucose_mg_dl, r.status) for r in readings] == [
        (39, ReadingStatus.BELOW_SENSOR_RANGE),
        (40, ReadingStatus.OK),
        (400, ReadingStatus.OK),
        (401, ReadingStatus.ABOVE_SENSOR_RANGE),
    ]


BEYOND_RANGE = (
    "is beyond 40-400 mg/dL (2.2-22.2 mmol/L), where the export writes Low or High: the file is "
    "damaged or edited"
)


@pytest.mark.parametrize(
    ("cell", "unit"),
    [("5000", "mg/dL"), ("401", "mg/dL"), ("25", "mg/dL"), ("22.3", "mmol/L"), ("2.1", "mmol/L")],
)
def test_a_number_beyond_the_sensor_range_is_refused(cell: str, unit: str, tmp_path: Path) -> None:
    # Given an EGV number where Clarity writes High or Low (it was imported, flagged)
    path = clarity_values(tmp_path, "6.1" if unit == "mmol/L" else "110", cell, unit=unit)
    # When it is parsed, then the file is refused at that line: it was damaged or edited
    with pytest.raises(MalformedFile) as refused:
        parse(path)
    assert str(refused.value) == f"{path}:3: glucose {cell} {unit} {BEYOND_RANGE}"


def test_a_negative_glucose_is_called_negative_not_mixed_units(tmp_path: Path) -> None:
    path = clarity_values(tmp_path, "110", "-120")
    with pytest.raises(
        MalformedFile, match=r"clarity\.csv:3: glucose -120 is negative: the file is damaged"
    ):
        parse(path)
