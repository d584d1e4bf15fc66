"""The alert engine: one patient's readings in, the alerts to page out. Pure and deterministic.

Readings are processed in event-time order whatever order they arrive in. The state keeps a
*settled* tracker snapshot (every reading measured before ``latest - staleness`` is final: a
reading that is not late cannot be older than that) and the *tail* of readings after it. New
readings are merged into the tail, deduplicated on (measured_at, device_id), and the rules
are re-run over the tail from the settled snapshot; in-order arrivals (the common case) just
continue from the tail's end.

An alert pages at most once per episode: each page is recorded with its kind, episode start and
the time of the reading that raised it, and a rule's finding is dropped when a page of its kind
lies inside the finding's episode as the data now stands (a reordered reading can move an
episode's start or end; a page raised inside it still belongs to it) — or when a page of its kind
was raised less than the staleness bound before or after it. That last clause covers rules that
fired on incomplete data: a reading may arrive up to the bound after a later one, and a page
cannot be taken back. It never hides a page of a new episode: two episodes are separated by at
least 15 minutes back in range, and the bound may not exceed that (``AlertConfig`` checks).

Findings at a late reading (arrived more than the staleness bound after it was measured) never
page; a later, timely reading in the same episode still can.

The one exception to "once per episode" is an unacknowledged URGENT_LOW, which repeats every 30
minutes while readings stay below 55 mg/dL (:mod:`.urgent_low_repeat`); each repeat is recorded
like a page, with its number in its id, so redelivery and reordering repeat nothing twice.
Alerts raised in the patient's quiet hours are recorded and published silenced
(:mod:`.quiet_hours`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.high import high
from glucosestream.domain.alerts.low import low
from glucosestream.domain.alerts.model import (
    Acknowledgement,
    Alert,
    AlertKind,
    AlertReading,
    Candidate,
    PagedAlert,
)
from glucosestream.domain.alerts.quiet_hours import silenced
from glucosestream.domain.alerts.recovered import recovered
from glucosestream.domain.alerts.tracker import Step, TrackerState, step
from glucosestream.domain.alerts.urgent_low import urgent_low
from glucosestream.domain.alerts.urgent_low_repeat import urgent_low_repeat
from glucosestream.domain.alerts.urgent_low_soon import urgent_low_soon

Rule = Callable[[Step, AlertConfig], Candidate | None]
RULES: tuple[Rule, ...] = (urgent_low, urgent_low_soon, low, high, recovered)
"""In the order they are reported for one reading."""

INFINITY = float("inf")
PAGED_MEMORY_MS = 24 * 3_600_000
"""Page records older than this (by episode start) are forgotten, once their episode is settled."""


@dataclass
class PatientAlertState:
    """Everything the engine keeps for one patient; ``to_dict`` is JSON-serialisable."""

    settled: TrackerState = field(default_factory=TrackerState)
    settled_until: int | None = None
    tail: list[AlertReading] = field(default_factory=list)
    current: TrackerState | None = None
    """The tracker after the whole tail (a cache; rebuilt from settled + tail when missing)."""
    paged: list[PagedAlert] = field(default_factory=list)
    acknowledged: list[Acknowledgement] = field(default_factory=list)
    """Acknowledged pages: an acknowledged URGENT_LOW episode is not repeated."""
    ignored_late: int = 0
    """Readings older than the settled horizon: kept in the lake, no longer able to alert."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "settled": self.settled.to_dict(),
            "settled_until": self.settled_until,
            "tail": [
                [r.measured_at, r.glucose_mg_dl, r.arrived_at, r.device_id, r.utc_offset_minutes]
                for r in self.tail
            ],
            "current": None if self.current is None else self.current.to_dict(),
            "paged": [
                [p.kind.value, p.episode_start, p.measured_at, p.alert_id, p.repeat]
                for p in self.paged
            ],
            "acknowledged": [a.to_list() for a in self.acknowledged],
            "ignored_late": self.ignored_late,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatientAlertState:
        return cls(
            settled=TrackerState.from_dict(data["settled"]),
            settled_until=data["settled_until"],
            tail=[
                AlertReading(int(m), int(g), int(a), str(d), int(o))
                for m, g, a, d, o in data["tail"]
            ],
            current=None if data["current"] is None else TrackerState.from_dict(data["current"]),
            # States written before repeats existed have 4-element pages and no acknowledgements.
            paged=[
                PagedAlert(
                    AlertKind(p[0]), int(p[1]), int(p[2]), str(p[3]), int(p[4] if len(p) > 4 else 0)
                )
                for p in data["paged"]
            ],
            acknowledged=[Acknowledgement.from_list(a) for a in data.get("acknowledged", [])],
            ignored_late=int(data["ignored_late"]),
        )


@dataclass(frozen=True)
class Evaluation:
    alerts: list[Alert]
    """To page now, in event-time order."""
    suppressed: list[Candidate]
    """Findings at late readings: recorded nowhere, paged never."""
    duplicates: int
    """Readings already seen (redelivery, duplicate uploads)."""
    merged: int = 0
    """Readings new to the state (0: the state is unchanged)."""


def evaluate(
    state: PatientAlertState,
    patient_id: str,
    readings: Iterable[AlertReading],
    now_ms: int,
    config: AlertConfig,
) -> Evaluation:
    """Merge ``readings`` into ``state`` (in place) and return the alerts to page."""
    seen = {r.key for r in state.tail}
    tail_end = state.tail[-1].measured_at if state.tail else None
    fresh: list[AlertReading] = []
    duplicates = 0
    for reading in readings:
        if reading.key in seen:
            duplicates += 1
            continue
        if state.settled_until is not None and reading.measured_at <= state.settled_until:
            state.ignored_late += 1
            continue
        seen.add(reading.key)
        fresh.append(reading)
    if not fresh:
        return Evaluation([], [], duplicates, 0)
    fresh.sort(key=lambda r: r.key)

    in_order = state.current is not None and (tail_end is None or fresh[0].key > state.tail[-1].key)
    if in_order:
        assert state.current is not None
        tracker, to_step = state.current, fresh
        state.tail.extend(fresh)
    else:
        state.tail = sorted([*state.tail, *fresh], key=lambda r: r.key)
        tracker, to_step = state.settled.copy(), state.tail

    steps: list[tuple[Step, list[Candidate]]] = []
    spans: dict[tuple[str, int], float] = {}
    for reading in to_step:
        result = step(tracker, reading, config)
        for family, start, end in result.closed:
            spans[(family, start)] = end
        if result.episode_start is not None:
            spans[("low", result.episode_start)] = INFINITY
        if result.hyper_start is not None:
            spans[("hyper", result.hyper_start)] = INFINITY
        steps.append((result, [c for rule in RULES if (c := rule(result, config)) is not None]))
    state.current = tracker

    def paged(kinds: tuple[AlertKind, ...], candidate: Candidate) -> bool:
        # A page belongs to the episode (as the data now stands) that spans its reading or the
        # start it was raised with: an earlier reading can move the start or the end.
        family = "hyper" if candidate.kind is AlertKind.HIGH else "low"
        start = candidate.episode_start
        end = spans.get((family, start), candidate.reading.measured_at)
        at = candidate.reading.measured_at
        return any(
            p.kind in kinds
            and (
                start <= p.measured_at <= end
                or start <= p.episode_start <= end
                or abs(p.measured_at - at) < config.staleness_ms
            )
            for p in state.paged
        )

    alerts: list[Alert] = []
    suppressed: list[Candidate] = []

    def page(candidate: Candidate) -> None:
        if candidate.reading.lateness_ms() > config.staleness_ms:
            suppressed.append(candidate)
            return
        alert = Alert.from_candidate(
            patient_id,
            candidate,
            now_ms,
            silenced=silenced(candidate.kind, candidate.reading, config.quiet_hours),
        )
        state.paged.append(
            PagedAlert(
                candidate.kind,
                candidate.episode_start,
                alert.measured_at,
                alert.alert_id,
                candidate.repeat,
            )
        )
        alerts.append(alert)

    for result, found in steps:
        for candidate in found:
            if paged((candidate.kind,), candidate):
                continue
            if candidate.kind is AlertKind.RECOVERED and not paged(
                (AlertKind.LOW, AlertKind.URGENT_LOW), candidate
            ):
                continue
            page(candidate)
        repeat = urgent_low_repeat(result, state.paged, state.acknowledged, config)
        if repeat is not None:
            page(repeat)

    _settle(state, config)
    return Evaluation(alerts, suppressed, duplicates, len(fresh))


def _settle(state: PatientAlertState, config: AlertConfig) -> None:
    """Fold tail readings measured before ``latest - staleness`` into the settled snapshot."""
    horizon = state.tail[-1].measured_at - config.staleness_ms
    settling = [r for r in state.tail if r.measured_at <= horizon]
    if settling:
        for reading in settling:
            step(state.settled, reading, config)
        state.tail = state.tail[len(settling) :]
        state.settled_until = settling[-1].measured_at
    if not state.tail:
        state.current = state.settled.copy()
    open_start = state.settled.episode_start
    keep_after = horizon - PAGED_MEMORY_MS
    state.paged = [
        p
        for p in state.paged
        if p.episode_start >= keep_after
        or (open_start is not None and p.episode_start >= open_start)
    ]
    remembered = {p.alert_id for p in state.paged}
    state.acknowledged = [a for a in state.acknowledged if a.alert_id in remembered]
