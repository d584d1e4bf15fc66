"""LibreView exports: US and European layouts, and the date order read from the whole file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from glucosestream.domain.reading import ReadingSource, ReadingStatus
from glucosestream.ingest.files.parsed_file import MalformedFile
from tests.unit.ingest.files.exports import FIXTURES, parse


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


def test_a_negative_glucose_is_called_negative_not_mixed_units(tmp_path: Path) -> None:
    # Given a LibreView row whose historic glucose is -120 (it was called mmol/L, mixed units)
    path = libre_file(tmp_path / "libre.csv", ["01-12-2026 00:07"])
    path.write_text(path.read_text().replace(",0,100,", ",0,-120,"))
    with pytest.raises(MalformedFile, match=r"libre\.csv:3: glucose -120 is negative: the file"):
        parse(path)
