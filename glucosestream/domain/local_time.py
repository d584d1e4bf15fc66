"""Local wall-clock times → UTC instants, across daylight-saving changes, without losing a reading.

Device exports (Dexcom Clarity, LibreView, many CSVs) give the device's wall-clock time with no
UTC offset. In a zone with daylight saving two kinds of wall time have no single instant:

* **ambiguous** — the repeated hour when clocks go back (01:00–01:59 twice in America/New_York
  on 2015-11-01, first EDT then EST);
* **nonexistent** — the skipped hour when clocks go forward (02:00–02:59 on 2015-03-08).

Rule: a device's readings come in the order it recorded them, so each stream (one patient's
device) is walked in source order and every reading gets the interpretation that keeps the
stream's instants increasing:

1. A wall time with one offset takes it — unless that would put it before the previous reading
   while the previous reading's offset would not: then the device's clock has not switched yet
   and the reading keeps the previous offset (counted as ``clock_not_switched``).
2. An ambiguous wall time takes the earlier offset (first occurrence) unless that would put it
   before the previous reading: then it is the second occurrence. A time that goes backwards by
   up to the shift right after the change therefore starts the repeated hour. The readings of the
   repeated hour before such a step are first occurrences, decided by order too; when no step
   decides (a lone reading in the hour, or the device recorded only one of the two hours), the
   earlier offset is kept and the reading counted as ``ambiguous_undecided``.
3. A nonexistent wall time is shifted forward by the gap — read with the offset in force before
   the change, which is what a device clock that had not yet sprung forward meant — and counted.
   Shifting was chosen over rejecting the file: the iglu example data (Subject 5, 2015-03-08
   02:04–02:59 read as America/New_York) come from a clock that never sprang forward; rejecting
   would leave such exports unimportable, and rule 1 then keeps that clock's later readings on
   their offset, so no two readings merge.

A stream whose wall times mostly decrease (a newest-first export) is walked newest first with
the comparisons reversed. Offsets or UTC times in the source are used as given, never guessed:
this module is for naive times only.

Where the source also gives a **recording sequence** — a counter that only grows while the
device records, such as Dexcom Clarity's ``Transmitter Time (Long Integer)`` (the transmitter's
seconds) — it, not the file's order, says which reading came first, so a file sorted by wall
time (which interleaves the two occurrences of the repeated hour) loses nothing:

4. A stream whose readings all carry a sequence number is walked in sequence order.
5. Readings at one ambiguous wall time with two different sequence numbers are two readings, so
   the two occurrences: the lower number the first, the higher the second. (One number twice is
   one reading repeated; three or more are left to rule 2 and show up as conflicts.)
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = ["LocalTimeReport", "ResolvedTime", "resolve_wall_times", "uniform_offset"]

MS_PER_MINUTE = 60_000
_EPOCH = datetime(1970, 1, 1)


class ResolvedTime(NamedTuple):
    """One wall time's instant: UTC epoch milliseconds and the UTC offset (minutes) it used."""

    utc_ms: int
    offset_minutes: int


@dataclass
class LocalTimeReport:
    """What the conversion had to decide, with the source position of the first example of each.

    Positions are the indices into the sequences given to :func:`resolve_wall_times`.
    """

    ambiguous_by_order: int = 0
    """Ambiguous wall times whose occurrence (first or second) the source order decided."""
    second_occurrence: int = 0
    """Of those, the readings placed in the repeated hour's second occurrence."""
    ambiguous_by_sequence: int = 0
    """Ambiguous wall times whose occurrence the recording sequence decided (rules 4 and 5),
    counted apart from the file order's."""
    second_by_sequence: int = 0
    """Of those, the readings placed in the repeated hour's second occurrence."""
    ambiguous_undecided: list[int] = field(default_factory=list)
    """Ambiguous wall times the order could not decide: kept with the earlier offset."""
    nonexistent_shifted: list[int] = field(default_factory=list)
    """Wall times in a skipped hour: shifted forward by the gap."""
    clock_not_switched: list[int] = field(default_factory=list)
    """Readings kept on the offset before a change because the device clock had not switched."""

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.ambiguous_by_order
            or self.ambiguous_by_sequence
            or self.ambiguous_undecided
            or self.nonexistent_shifted
            or self.clock_not_switched
        )

    def phrases(self) -> list[str]:
        """Human-readable counts, e.g. ``24 ambiguous local times resolved by file order``."""
        out = []
        if self.ambiguous_by_order:
            out.append(
                f"{self.ambiguous_by_order} ambiguous local times (repeated hour) resolved by "
                f"file order, {self.second_occurrence} of them in the second occurrence"
            )
        if self.ambiguous_by_sequence:
            out.append(
                f"{self.ambiguous_by_sequence} ambiguous local times (repeated hour) resolved by "
                f"recording order (transmitter time), {self.second_by_sequence} of them in the "
                "second occurrence"
            )
        if self.ambiguous_undecided:
            out.append(
                f"{len(self.ambiguous_undecided)} ambiguous local times the order could not "
                "decide, kept with the earlier UTC offset"
            )
        if self.nonexistent_shifted:
            out.append(
                f"{len(self.nonexistent_shifted)} nonexistent local times (skipped hour) shifted "
                "forward by the gap"
            )
        if self.clock_not_switched:
            out.append(
                f"{len(self.clock_not_switched)} readings kept on the previous UTC offset (the "
                "device clock had not switched)"
            )
        return out


def _naive_ms(wall: datetime) -> int:
    return (wall - _EPOCH) // timedelta(milliseconds=1)


def _minutes(offset: timedelta | None) -> int:
    return int(offset.total_seconds() // 60) if offset is not None else 0


class _Candidates(NamedTuple):
    """The readings of one wall time: (earlier offset, later offset) and its kind."""

    wall_ms: int
    first: int
    """Offset (minutes) of fold 0: the only one, the earlier of an ambiguous time, or the one
    before a skipped hour."""
    second: int
    kind: str
    """``normal``, ``ambiguous`` or ``nonexistent``."""

    def instant(self, offset_minutes: int) -> int:
        return self.wall_ms - offset_minutes * MS_PER_MINUTE


_EPOCH_ORDINAL = _EPOCH.toordinal()
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000


def _candidates(wall: datetime, tz: ZoneInfo) -> _Candidates:
    naive = wall.replace(tzinfo=None)
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    first, second = _minutes(early.utcoffset()), _minutes(late.utcoffset())
    wall_ms = _naive_ms(naive)
    if first == second:
        return _Candidates(wall_ms, first, second, "normal")
    round_trip = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    kind = "ambiguous" if round_trip == naive else "nonexistent"
    return _Candidates(wall_ms, first, second, kind)


class _ZoneHours:
    """Candidates of many wall times, fast: most hours hold no change, so each clock hour is
    looked up in the zone once (its first and last millisecond, both folds) and every wall time
    of an hour with one offset is plain arithmetic; only hours with a change go minute by minute.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.single_offset: dict[tuple[int, int], int | None] = {}

    def candidates(self, wall: datetime) -> _Candidates:
        key = (wall.toordinal(), wall.hour)
        offset = self.single_offset.get(key, -1)
        if offset == -1:
            offset = self.single_offset[key] = self.offset_of_hour(wall)
        if offset is None:
            return _candidates(wall, self.tz)
        wall_ms = (
            (key[0] - _EPOCH_ORDINAL) * MS_PER_DAY
            + key[1] * MS_PER_HOUR
            + wall.minute * MS_PER_MINUTE
            + wall.second * 1000
            + wall.microsecond // 1000
        )
        return _Candidates(wall_ms, offset, offset, "normal")

    def offset_of_hour(self, wall: datetime) -> int | None:
        """The one offset of ``wall``'s clock hour, or ``None`` when the hour holds a change."""
        start = wall.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        end = start + timedelta(hours=1) - timedelta(milliseconds=1)
        offsets = {
            _minutes(moment.replace(tzinfo=self.tz, fold=fold).utcoffset())
            for moment in (start, end)
            for fold in (0, 1)
        }
        return offsets.pop() if len(offsets) == 1 else None


def uniform_offset(wall_hours: Iterable[datetime], tz: ZoneInfo) -> int | None:
    """The UTC offset (minutes) in ``tz`` of every given wall-clock hour (any time in it), when
    each hour has a single offset throughout and it is the same for all; else ``None``.

    With one offset, :func:`resolve_wall_times` of wall times in those hours is plain
    arithmetic: each reading takes that offset and nothing is decided (its report stays empty),
    so a caller holding many readings can skip it.
    """
    hours = _ZoneHours(tz)
    offsets = {hours.offset_of_hour(wall) for wall in wall_hours}
    if len(offsets) != 1:
        return None
    return offsets.pop()


def _newest_first(walls: Sequence[int]) -> bool:
    steps = [b - a for a, b in itertools.pairwise(walls)]
    return sum(s < 0 for s in steps) > sum(s > 0 for s in steps)


def resolve_wall_times(
    streams: Sequence[Hashable],
    walls: Sequence[datetime],
    tz: ZoneInfo,
    sequence: Sequence[int | None] | None = None,
) -> tuple[list[ResolvedTime], LocalTimeReport]:
    """UTC instants of naive wall-clock times in ``tz``, resolved per stream in source order.

    Parameters
    ----------
    streams
        The stream of each reading (e.g. ``(patient, device)``): order is judged within one.
    walls
        Naive local wall-clock times, in source order (``tzinfo`` is ignored if set).
    tz
        The zone the wall times are in.
    sequence
        Optional: each reading's recording sequence number (a counter that only grows while the
        stream's device records, e.g. Dexcom's transmitter time), ``None`` where unknown. A
        stream whose readings all have one is resolved by it (rules 4 and 5 of the module
        docstring); any other stream by source order.

    Returns
    -------
    tuple
        One :class:`ResolvedTime` per input, in input order, and the :class:`LocalTimeReport`.
    """
    if len(streams) != len(walls):
        raise ValueError(f"streams and walls differ in length: {len(streams)} != {len(walls)}")
    if sequence is not None and len(sequence) != len(walls):
        raise ValueError(f"sequence and walls differ in length: {len(sequence)} != {len(walls)}")
    hours = _ZoneHours(tz)
    candidates = [hours.candidates(wall) for wall in walls]
    by_stream: dict[Hashable, list[int]] = {}
    for index, stream in enumerate(streams):
        by_stream.setdefault(stream, []).append(index)
    chosen = [0] * len(walls)
    report = LocalTimeReport()
    for indices in by_stream.values():
        numbers = _stream_sequence(indices, sequence)
        if numbers is not None:
            recorded = sorted(indices, key=lambda i: (numbers[i], i))
            forced = _occurrences_by_sequence(recorded, candidates, numbers)
            _walk(recorded, candidates, chosen, report, forced)
            continue
        # A newest-first export is walked from its end: oldest first, as it was recorded.
        newest_first = _newest_first([candidates[i].wall_ms for i in indices])
        _walk(indices[::-1] if newest_first else indices, candidates, chosen, report)
    report.ambiguous_undecided.sort()
    report.nonexistent_shifted.sort()
    report.clock_not_switched.sort()
    resolved = [
        ResolvedTime(c.instant(offset), offset)
        for c, offset in zip(candidates, chosen, strict=True)
    ]
    return resolved, report


def _stream_sequence(
    indices: list[int], sequence: Sequence[int | None] | None
) -> dict[int, int] | None:
    """The sequence number of each of a stream's readings, or None unless every one has one."""
    if sequence is None:
        return None
    numbers = {index: number for index in indices if (number := sequence[index]) is not None}
    return numbers if len(numbers) == len(indices) else None


def _occurrences_by_sequence(
    recorded: list[int], candidates: list[_Candidates], numbers: dict[int, int]
) -> dict[int, int]:
    """Rule 5: the offset of each reading at an ambiguous wall time that the stream holds with
    exactly two sequence numbers, the lower one's the earlier offset (first occurrence)."""
    numbers_at: dict[int, set[int]] = {}
    for index in recorded:
        if candidates[index].kind == "ambiguous":
            numbers_at.setdefault(candidates[index].wall_ms, set()).add(numbers[index])
    forced: dict[int, int] = {}
    for index in recorded:
        c = candidates[index]
        at_wall = numbers_at.get(c.wall_ms, set()) if c.kind == "ambiguous" else set()
        if len(at_wall) == 2:
            forced[index] = c.first if numbers[index] == min(at_wall) else c.second
    return forced


def _walk(
    order: list[int],
    candidates: list[_Candidates],
    chosen: list[int],
    report: LocalTimeReport,
    forced: dict[int, int] | None = None,
) -> None:
    """Choose each reading's offset along one stream, oldest first (see the module docstring).

    ``forced`` is given for a stream walked in recording sequence: offsets rule 5 decided, and
    the report then counts every decision as the sequence's, not the file order's.
    """
    by_sequence = forced is not None
    forced = forced or {}

    def decided(count: int, second: int) -> None:
        if by_sequence:
            report.ambiguous_by_sequence += count
            report.second_by_sequence += second
        else:
            report.ambiguous_by_order += count
            report.second_occurrence += second

    def follows(instant: int, previous: int | None) -> bool:
        # Equal instants follow: a duplicated row is the same reading, not a step back in time.
        return previous is None or instant >= previous

    previous_instant: int | None = None
    previous_offset: int | None = None
    pending_first: list[int] = []
    """Ambiguous readings given the preferred occurrence, waiting for a step that decides them."""
    for index in order:
        c = candidates[index]
        if index in forced:
            offset = forced[index]
            second = offset == c.second
            # A second occurrence ends the first: readings waiting for a step are decided too.
            decided(1 + (len(pending_first) if second else 0), int(second))
            if second:
                pending_first.clear()
        elif c.kind == "ambiguous":
            if follows(c.instant(c.first), previous_instant):
                offset = c.first
                pending_first.append(index)
            else:
                offset = c.second
                decided(1 + len(pending_first), 1)
                pending_first.clear()
        else:
            report.ambiguous_undecided.extend(pending_first)
            pending_first.clear()
            if c.kind == "nonexistent":
                offset = c.first
                report.nonexistent_shifted.append(index)
            else:
                offset = c.first
                if (
                    previous_offset is not None
                    and previous_offset != offset
                    and not follows(c.instant(offset), previous_instant)
                    and follows(c.instant(previous_offset), previous_instant)
                ):
                    offset = previous_offset
                    report.clock_not_switched.append(index)
        chosen[index] = offset
        previous_instant, previous_offset = c.instant(offset), offset
    report.ambiguous_undecided.extend(pending_first)
