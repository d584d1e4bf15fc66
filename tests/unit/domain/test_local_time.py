"""Wall-clock → UTC across daylight-saving changes: nothing lost, merged or moved silently."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.local_time import resolve_wall_times

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")


def utc_ms(moment: datetime) -> int:
    return round(moment.replace(tzinfo=UTC).timestamp() * 1000)


def recorded(start_utc: datetime, count: int, step: timedelta, tz: ZoneInfo) -> list[datetime]:
    """What a DST-following device's export shows: naive wall-clock times (no fold), in order."""
    return [
        (start_utc + n * step).replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None, fold=0)
        for n in range(count)
    ]


def test_new_york_fall_back_keeps_both_occurrences_of_the_repeated_hour() -> None:
    # Given 48 readings every 5 minutes from 00:00 EDT on 2015-11-01, where 01:00-01:55 happens
    # twice (first EDT, then EST), as the export writes them
    start = datetime(2015, 11, 1, 4, 0)  # 00:00 EDT
    walls = recorded(start, 48, timedelta(minutes=5), NEW_YORK)
    assert walls[12] == walls[24] == datetime(2015, 11, 1, 1, 0)  # the hour really repeats

    # When they are resolved in file order
    resolved, report = resolve_wall_times(["p|dev"] * 48, walls, NEW_YORK)

    # Then every reading keeps its own instant, 5 minutes apart, with the offset of its hour
    assert [r.utc_ms for r in resolved] == [
        utc_ms(start + timedelta(minutes=5 * n)) for n in range(48)
    ]
    assert [r.offset_minutes for r in resolved] == [-240] * 24 + [-300] * 24
    assert report.ambiguous_by_order == 24
    assert report.second_occurrence == 12
    assert report.ambiguous_undecided == []
    assert report.phrases() == [
        "24 ambiguous local times (repeated hour) resolved by file order, 12 of them in the "
        "second occurrence"
    ]


def test_newest_first_export_is_read_from_its_end() -> None:
    start = datetime(2015, 11, 1, 4, 0)
    walls = recorded(start, 48, timedelta(minutes=5), NEW_YORK)[::-1]

    resolved, report = resolve_wall_times(["p"] * 48, walls, NEW_YORK)

    assert [r.utc_ms for r in resolved] == [
        utc_ms(start + timedelta(minutes=5 * n)) for n in reversed(range(48))
    ]
    assert report.second_occurrence == 12


def test_lone_reading_in_the_repeated_hour_is_kept_with_the_earlier_offset_and_counted() -> None:
    walls = [datetime(2015, 11, 1, 0, 30), datetime(2015, 11, 1, 1, 30), datetime(2015, 11, 1, 3)]

    resolved, report = resolve_wall_times(["p"] * 3, walls, NEW_YORK)

    assert resolved[1].offset_minutes == -240  # EDT: the earlier offset
    assert report.ambiguous_undecided == [1]
    assert report.ambiguous_by_order == 0
    assert "could not decide" in report.phrases()[0]


def test_duplicated_row_in_the_repeated_hour_is_not_a_second_occurrence() -> None:
    walls = [datetime(2015, 11, 1, 1, 0), datetime(2015, 11, 1, 1, 5), datetime(2015, 11, 1, 1, 5)]

    resolved, _ = resolve_wall_times(["p"] * 3, walls, NEW_YORK)

    assert resolved[1] == resolved[2]


def test_streams_are_resolved_independently() -> None:
    # Two devices' rows interleaved: each device's order decides for that device alone.
    start = datetime(2015, 11, 1, 4, 0)
    a = recorded(start, 36, timedelta(minutes=5), NEW_YORK)
    b = recorded(start, 12, timedelta(minutes=15), NEW_YORK)
    # The file lists both devices in recording order (by true time, which it does not show).
    rows = [(5 * n, "a", w) for n, w in enumerate(a)] + [(15 * n, "b", w) for n, w in enumerate(b)]
    rows.sort(key=lambda row: (row[0], row[1]))
    _, streams, walls = zip(*rows, strict=True)

    resolved, _ = resolve_wall_times(list(streams), list(walls), NEW_YORK)

    by_stream: dict[str, list[int]] = {}
    for stream, r in zip(streams, resolved, strict=True):
        by_stream.setdefault(stream, []).append(r.utc_ms)
    assert by_stream["a"] == [utc_ms(start + timedelta(minutes=5 * n)) for n in range(36)]
    assert by_stream["b"] == [utc_ms(start + timedelta(minutes=15 * n)) for n in range(12)]


def test_new_york_spring_forward_device_that_switched_has_no_skipped_times() -> None:
    start = datetime(2015, 3, 8, 6, 0)  # 01:00 EST
    walls = recorded(start, 24, timedelta(minutes=5), NEW_YORK)
    assert walls[12] == datetime(2015, 3, 8, 3, 0)

    resolved, report = resolve_wall_times(["p"] * 24, walls, NEW_YORK)

    assert [r.utc_ms for r in resolved] == [
        utc_ms(start + timedelta(minutes=5 * n)) for n in range(24)
    ]
    assert not report.changed_anything


def test_skipped_hour_from_a_clock_that_did_not_spring_forward_loses_nothing() -> None:
    # As iglu's Subject 5: 01:59, 02:04 ... 02:59, 03:04 ... on 2015-03-08, 5 minutes apart.
    walls = [datetime(2015, 3, 8, 1, 59, 39) + timedelta(minutes=5 * n) for n in range(36)]

    resolved, report = resolve_wall_times(["Subject 5"] * 36, walls, NEW_YORK)

    instants = [r.utc_ms for r in resolved]
    assert len(set(instants)) == 36
    assert all(b - a == 300_000 for a, b in itertools.pairwise(instants))
    # 02:04 is read in EST (the offset before the change): 07:04 UTC, i.e. 03:04 EDT.
    assert instants[1] == utc_ms(datetime(2015, 3, 8, 7, 4, 39))
    assert report.nonexistent_shifted == list(range(1, 13))
    assert report.clock_not_switched == list(range(13, 36))
    assert (
        report.phrases()[0]
        == "12 nonexistent local times (skipped hour) shifted forward by the gap"
    )


def test_berlin_both_changes() -> None:
    spring = datetime(2026, 3, 29, 0, 0)  # 01:00 CET; 02:00-02:59 CEST does not exist
    autumn = datetime(2026, 10, 24, 23, 30)  # 01:30 CEST; 02:00-02:59 repeats
    for start in (spring, autumn):
        walls = recorded(start, 60, timedelta(minutes=5), BERLIN)
        resolved, report = resolve_wall_times(["p"] * 60, walls, BERLIN)
        assert [r.utc_ms for r in resolved] == [
            utc_ms(start + timedelta(minutes=5 * n)) for n in range(60)
        ]
        assert not report.ambiguous_undecided


def test_sydney_southern_hemisphere_both_changes() -> None:
    autumn = datetime(2026, 4, 4, 14, 0)  # 01:00 AEDT on 5 April; 02:00-02:59 repeats
    spring = datetime(2026, 10, 3, 15, 0)  # 01:00 AEST on 4 October; 02:00-02:59 skipped
    for start, second in ((autumn, 12), (spring, 0)):
        walls = recorded(start, 60, timedelta(minutes=5), SYDNEY)
        resolved, report = resolve_wall_times(["p"] * 60, walls, SYDNEY)
        assert [r.utc_ms for r in resolved] == [
            utc_ms(start + timedelta(minutes=5 * n)) for n in range(60)
        ]
        assert report.second_occurrence == second


ZONES = [NEW_YORK, BERLIN, SYDNEY, ZoneInfo("America/Santiago"), ZoneInfo("Europe/London")]


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    cadence_s=st.sampled_from([60, 300, 900]),
    jitter_s=st.integers(min_value=0, max_value=30),
    count=st.integers(min_value=2, max_value=400),
    start_day=st.integers(min_value=0, max_value=3 * 365),
    start_minute=st.integers(min_value=0, max_value=1439),
    newest_first=st.booleans(),
)
def test_utc_to_wall_clock_and_back_gives_the_same_instants(
    zone: ZoneInfo,
    cadence_s: int,
    jitter_s: int,
    count: int,
    start_day: int,
    start_minute: int,
    newest_first: bool,
) -> None:
    # Given a device that follows its zone's clock, recording at a CGM cadence (with jitter of a
    # few seconds) from any moment of three years, DST changes included, exported in order
    start = datetime(2024, 1, 1) + timedelta(days=start_day, minutes=start_minute)
    instants = [
        start + timedelta(seconds=n * cadence_s + (n * 7919 % (jitter_s + 1))) for n in range(count)
    ]
    walls = [i.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None, fold=0) for i in instants]
    if newest_first:
        instants, walls = instants[::-1], walls[::-1]

    # When the export's wall-clock times are converted back
    resolved, report = resolve_wall_times(["p"] * count, walls, zone)

    # Then every instant comes back exactly, and nothing was left undecided
    assert [r.utc_ms for r in resolved] == [utc_ms(i) for i in instants]
    assert report.nonexistent_shifted == []
    assert report.clock_not_switched == []


def test_uniform_offset_is_the_one_offset_of_hours_without_a_change() -> None:
    from glucosestream.domain.local_time import uniform_offset

    winter = [datetime(2026, 1, 5, hour) for hour in range(24)]
    assert uniform_offset(winter, BERLIN) == 60
    assert uniform_offset(winter, ZoneInfo("UTC")) == 0
    # Both sides of a change: two offsets; the changing hour itself: none.
    assert uniform_offset([datetime(2026, 3, 28, 12), datetime(2026, 3, 30, 12)], BERLIN) is None
    assert uniform_offset([datetime(2026, 3, 29, 2)], BERLIN) is None
    assert uniform_offset([], BERLIN) is None


@given(
    st.lists(st.integers(0, 24 * 60 * 20), min_size=1, max_size=60),
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
)
@settings(max_examples=200, deadline=None)
def test_with_a_uniform_offset_resolving_is_that_offset(minutes: list[int], zone: str) -> None:
    # Given wall times around the 2026 spring changes, in one stream
    from glucosestream.domain.local_time import uniform_offset

    tz = ZoneInfo(zone)
    walls = [datetime(2026, 3, 1) + timedelta(minutes=m) for m in minutes]
    offset = uniform_offset((w.replace(minute=0, second=0) for w in walls), tz)

    # When their hours share one offset, resolving gives that offset and decides nothing
    resolved, report = resolve_wall_times(["p"] * len(walls), walls, tz)
    if offset is not None:
        assert {r.offset_minutes for r in resolved} == {offset}
        assert not report.changed_anything


# ------------------------------------------ a recording sequence (Dexcom's transmitter time)

# Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:00-02:59 happens twice.
AUTUMN_START = datetime(2026, 10, 24, 23, 50)  # 01:50 CEST


def test_a_file_sorted_by_wall_time_is_resolved_by_the_recording_sequence() -> None:
    # Given readings recorded at these minutes after 01:50 CEST, each with the transmitter's
    # seconds, and a file that lists them by wall time: the repeated hour's two occurrences
    # interleave (02:10 CEST, 02:10 CET, 02:40 CEST, 02:40 CET, ...)
    minutes = [0, 20, 50, 65, 80, 110, 135]
    instants = [AUTUMN_START + timedelta(minutes=m) for m in minutes]
    walls = [
        i.replace(tzinfo=UTC).astimezone(BERLIN).replace(tzinfo=None, fold=0) for i in instants
    ]
    seconds = [1000 + 60 * m for m in minutes]
    rows = sorted(zip(walls, seconds, instants, strict=True))
    assert [f"{w:%H:%M}" for w, _, _ in rows] == [
        "01:50", "02:10", "02:10", "02:40", "02:40", "02:55", "03:05",
    ]  # fmt: skip

    # When they are resolved with the transmitter's seconds as the recording sequence
    resolved, report = resolve_wall_times(
        ["dexcom-8XYZ13"] * 7, [w for w, _, _ in rows], BERLIN, [s for _, s, _ in rows]
    )

    # Then every reading has its true instant, and the summary says what decided
    assert [r.utc_ms for r in resolved] == [utc_ms(i) for _, _, i in rows]
    assert (report.ambiguous_by_sequence, report.second_by_sequence) == (5, 2)
    assert (report.ambiguous_by_order, report.ambiguous_undecided) == (0, [])
    assert report.phrases() == [
        "5 ambiguous local times (repeated hour) resolved by recording order (transmitter "
        "time), 2 of them in the second occurrence"
    ]


def test_two_sequence_numbers_at_one_ambiguous_time_are_the_two_occurrences() -> None:
    # Given one reading in each occurrence of 02:10 (nothing else in the hour to order them),
    # listed together, their transmitter times an hour apart
    walls = [datetime(2026, 10, 25, 1, 50), datetime(2026, 10, 25, 2, 10)]
    walls += [datetime(2026, 10, 25, 2, 10), datetime(2026, 10, 25, 3, 5)]

    resolved, report = resolve_wall_times(["tx"] * 4, walls, BERLIN, [0, 1200, 4800, 8100])

    # Then the lower one is the first occurrence (CEST), the higher the second (CET)
    assert [(r.utc_ms - utc_ms(AUTUMN_START)) // 60_000 for r in resolved] == [0, 20, 80, 135]
    assert [r.offset_minutes for r in resolved] == [120, 120, 60, 60]
    assert report.ambiguous_undecided == []


def test_one_sequence_number_twice_is_one_reading_repeated() -> None:
    walls = [datetime(2026, 10, 25, 2, 10), datetime(2026, 10, 25, 2, 10)]

    resolved, _ = resolve_wall_times(["tx"] * 2, walls, BERLIN, [1200, 1200])

    assert resolved[0] == resolved[1]


def test_a_stream_without_every_sequence_number_keeps_the_file_order_rule() -> None:
    # Given the file-ordered fall-back of the first test, one transmitter time missing
    start = datetime(2015, 11, 1, 4, 0)
    walls = recorded(start, 48, timedelta(minutes=5), NEW_YORK)
    sequence: list[int | None] = [300 * n for n in range(48)]
    sequence[30] = None

    resolved, report = resolve_wall_times(["p"] * 48, walls, NEW_YORK, sequence)

    assert [r.utc_ms for r in resolved] == [
        utc_ms(start + timedelta(minutes=5 * n)) for n in range(48)
    ]
    assert (report.ambiguous_by_order, report.ambiguous_by_sequence) == (24, 0)
