"""Metrics of days with 23 and 25 hours, checked by hand: every reading counts on its local day,
active % follows elapsed time, ADRR takes each local day's extremes (issue: DST)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from glucosestream.elt.refresh import run_elt
from glucosestream.elt.tables import DAILY
from glucosestream.ingest.files.readings_csv import read_csv_input
from glucosestream.local.athena import LocalAthena
from glucosestream.local.lake import local_lake
from glucosestream.reports.episodes import patient_episodes
from glucosestream.reports.metrics import patient_metrics
from glucosestream.settings import Settings
from tests.component.elt.rawdata import Raw, write_raw
from tests.component.elt.test_refresh import rows

NEW_YORK = ZoneInfo("America/New_York")
BASE = 120
# (first local midnight, UTC instant of it, readings, readings per local day)
FALL_BACK = (datetime(2015, 10, 31, 4, 0), 876, (288, 300, 288))  # Oct 31, Nov 1 (25 h), Nov 2
SPRING_FORWARD = (datetime(2015, 3, 7, 5, 0), 852, (288, 276, 288))  # Mar 7, Mar 8 (23 h), Mar 9


def risk(glucose: float) -> float:
    """Kovatchev's symmetrised BG risk f = ln(g)^1.084 - 5.381 (g in mg/dL)."""
    return math.log(glucose) ** 1.084 - 5.381


def day_risk_range(low: float, high: float) -> float:
    """One day's ADRR term: 22.77 (max(f_max, 0)^2 + min(f_min, 0)^2)."""
    return 22.77 * (max(risk(high), 0.0) ** 2 + min(risk(low), 0.0) ** 2)


def recording(
    start: datetime, count: int, special: dict[datetime, int]
) -> list[tuple[datetime, int, int]]:
    """(wall clock, UTC offset min, glucose) every 5 minutes of a DST-following device."""
    out = []
    for n in range(count):
        moment = (start + timedelta(minutes=5 * n)).replace(tzinfo=UTC).astimezone(NEW_YORK)
        offset = int(moment.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        out.append(
            (
                moment.replace(tzinfo=None),
                offset,
                special.get(moment.astimezone(UTC).replace(tzinfo=None), BASE),
            )
        )
    return out


def csv_of(tmp_path: Path, recorded: list[tuple[datetime, int, int]]) -> Path:
    path = tmp_path / "export.csv"
    lines = ["id,time,gl"] + [f"p1,{wall:%Y-%m-%d %H:%M:%S},{g}" for wall, _, g in recorded]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# A high on the first day and a low at 01:30 EST on 1 November — the repeated hour's SECOND
# occurrence, which merging into the first would lose.
FALL_HIGH = datetime(2015, 10, 31, 16, 0)  # 12:00 EDT
FALL_LOW = datetime(2015, 11, 1, 6, 30)  # 01:30 EST
# A low at 03:10 EDT on 8 March, just after the skipped hour.
SPRING_LOW = datetime(2015, 3, 8, 7, 10)


def test_fall_back_metrics_by_hand(tmp_path: Path) -> None:
    start, count, _ = FALL_BACK
    recorded = recording(start, count, {FALL_HIGH: 250, FALL_LOW: 50})
    csv_input = read_csv_input(csv_of(tmp_path, recorded), "America/New_York")

    (metrics,) = patient_metrics(LocalAthena(), csv_input.rows)

    assert metrics["n_readings"] == 876
    assert metrics["mean"] == pytest.approx((874 * BASE + 250 + 50) / 876)
    assert metrics["active_percent"] == 100.0
    # ADRR: mean over the three local days of each day's risk range.
    expected_adrr = (
        day_risk_range(BASE, 250) + day_risk_range(50, BASE) + day_risk_range(BASE, BASE)
    ) / 3
    assert metrics["adrr"] == pytest.approx(expected_adrr, rel=1e-12)
    assert metrics["tbr_54"] == pytest.approx(100 / 876)


def test_spring_forward_active_percent_follows_elapsed_time(tmp_path: Path) -> None:
    start, count, _ = SPRING_FORWARD
    recorded = recording(start, count, {SPRING_LOW: 50})
    csv_input = read_csv_input(csv_of(tmp_path, recorded), "America/New_York")

    (metrics,) = patient_metrics(LocalAthena(), csv_input.rows)

    assert metrics["n_readings"] == 852
    # A wall-clock axis would see 01:55 -> 03:00 as a 65-minute gap and report ~98.6 %.
    assert metrics["active_percent"] == 100.0
    expected_adrr = (
        day_risk_range(BASE, BASE) + day_risk_range(50, BASE) + day_risk_range(BASE, BASE)
    ) / 3
    assert metrics["adrr"] == pytest.approx(expected_adrr, rel=1e-12)


def test_episode_after_the_change_is_shown_on_the_wall_clock(tmp_path: Path) -> None:
    # A level-1 hypo from 01:10 to 01:50 EST, in the repeated hour's second occurrence.
    start, count, _ = FALL_BACK
    low = {datetime(2015, 11, 1, 6, 10) + timedelta(minutes=5 * n): 60 for n in range(9)}
    recorded = recording(start, count, low)
    csv_input = read_csv_input(csv_of(tmp_path, recorded), "America/New_York")

    found = patient_episodes(LocalAthena(), csv_input.rows)

    hypos = [e for _, e in found if e.kind == "hypo" and e.level == "lv1"]
    assert len(hypos) == 1
    start_local = datetime.fromtimestamp(hypos[0].start_ms / 1000, UTC).replace(tzinfo=None)
    # The grid point at or after the first low reading, on the wall clock (EST).
    assert datetime(2015, 11, 1, 1, 10) <= start_local <= datetime(2015, 11, 1, 1, 15)


@pytest.mark.parametrize("change", [FALL_BACK, SPRING_FORWARD], ids=["fall_back", "spring_forward"])
def test_daily_mart_counts_each_local_day(
    change: tuple[datetime, int, tuple[int, int, int]], settings: Settings
) -> None:
    # Given the raw zone holding the device's readings with the offsets the import resolved
    start, count, per_day = change
    recorded = recording(start, count, {})
    first_ms = round(start.replace(tzinfo=UTC).timestamp() * 1000)
    write_raw(
        settings,
        "dst",
        [
            Raw("p1", first_ms + n * 300_000, g, utc_offset_minutes=offset)
            for n, (_, offset, g) in enumerate(recorded)
        ],
    )

    # When the pipeline builds the daily mart
    run_elt(local_lake(settings), date(2015, 11, 2) if change is FALL_BACK else date(2015, 3, 9))

    # Then the 25- or 23-hour day holds every one of its readings
    daily = {(r["local_day"], r["n_readings"]) for r in rows(settings, DAILY)}
    first_day = start.date()
    assert daily == {(first_day + timedelta(days=n), per_day[n]) for n in range(3)}
