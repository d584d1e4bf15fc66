"""Per-patient episode tracking in event-time order: the state every alert rule reads.

A *low-risk episode* opens at the first reading below the level-1 threshold (< 70 mg/dL) or whose
projection says urgent low soon, and closes after readings have stayed at or above 70 mg/dL, with
no projected urgent low, for 15 consecutive minutes (Battelino 2023; iglu ``episode_calculation``)
— or at a gap longer than 45 minutes, which is not bridged. It is *confirmed* as a level-1
hypoglycaemic episode once readings have stayed below 70 mg/dL for 15 consecutive minutes.

An episode never ends on a run with a hole (a missing reading) less than the staleness bound old:
a timely upload could still fill it and change the outcome, and a closure re-arms every alert.
Recovery is then announced up to the bound later; onsets are never delayed.

Durations follow iglu's grid counting: a run of readings from t₁ to tₖ lasts tₖ - t₁ + Δ, where Δ
is the patient's sampling interval (median of recent intervals; 5 minutes until known), so three
5-minute readings make 15 minutes, as three grid points do in iglu.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from glucosestream.domain.alerts.config import MINUTE_MS, AlertConfig
from glucosestream.domain.alerts.fall_forecast import forecast
from glucosestream.domain.alerts.model import AlertReading

MAX_INTERVALS = 12
MAX_RECENT = 32
"""Readings kept for the rate and the cadence (1-minute cadence × ~30 minutes)."""


@dataclass
class TrackerState:
    """Serialisable; every field is a plain value."""

    last_t: int | None = None
    recent: list[tuple[int, int]] = field(default_factory=list)
    episode_start: int | None = None
    confirmed: bool = False
    below_run_start: int | None = None
    clear_run_start: int | None = None
    hyper_start: int | None = None
    above_run_start: int | None = None
    hyper_clear_start: int | None = None
    intervals: list[int] = field(default_factory=list)
    """The last sampling intervals (ms): their median is the patient's cadence."""
    last_hole_end: int | None = None
    """The reading after the latest missing reading(s): a later upload may still fill the hole."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackerState:
        return cls(**{**data, "recent": [(int(t), int(g)) for t, g in data["recent"]]})

    def copy(self) -> TrackerState:
        return TrackerState(
            **{**asdict(self), "recent": list(self.recent), "intervals": list(self.intervals)}
        )


@dataclass(frozen=True, slots=True)
class Step:
    """What one reading did to the state: everything a rule needs to decide."""

    reading: AlertReading
    episode_start: int | None
    """The open low-risk episode after this reading (None if closed)."""
    confirmed: bool
    below_level_1: bool
    rate_mg_dl_per_min: float | None
    projected_mg_dl: float | None
    predicted_low: bool
    recovered_episode: int | None
    """Start of the episode this reading closed by recovery."""
    hyper_start: int | None
    above_level_2_hyper: bool
    closed: tuple[tuple[str, int, int], ...] = ()
    """Episodes this reading closed: (family "low" | "hyper", start, last time inside)."""


def _cadence(intervals: list[int], config: AlertConfig) -> int:
    if not intervals:
        return config.default_cadence_ms
    return int(min(max(median(intervals), MINUTE_MS), 15 * MINUTE_MS))


def step(state: TrackerState, reading: AlertReading, config: AlertConfig) -> Step:
    """Advance ``state`` (in place) by one reading, which must not precede ``state.last_t``."""
    t, g = reading.measured_at, reading.glucose_mg_dl
    closed: list[tuple[str, int, int]] = []
    previous_t = state.last_t
    if state.last_t is not None and t - state.last_t > config.max_gap_ms:
        # Gap not bridged: whatever was open ends at the last reading, without a recovery.
        if state.episode_start is not None:
            closed.append(("low", state.episode_start, state.last_t))
        if state.hyper_start is not None:
            closed.append(("hyper", state.hyper_start, state.last_t))
        state.__dict__.update(TrackerState().__dict__)
    state.last_t = t
    horizon = t - config.rate_window_ms - MINUTE_MS  # a minute of slack for clock jitter
    state.recent = [p for p in state.recent if p[0] >= horizon][-(MAX_RECENT - 1) :]
    state.recent.append((t, g))
    if previous_t is not None and previous_t < t <= previous_t + config.max_gap_ms:
        state.intervals = [*state.intervals[-(MAX_INTERVALS - 1) :], t - previous_t]
    cadence = _cadence(state.intervals, config)
    if previous_t is not None and t - previous_t > cadence * 3 // 2:
        state.last_hole_end = t
    # An episode ends only on a run with no hole that a reading within the staleness bound could
    # still fill: a closure is never decided on data that a timely upload would change.
    settled = state.last_hole_end is None or t - state.last_hole_end >= config.staleness_ms

    fall = forecast(state.recent, cadence, config)
    rate = fall.rate_mg_dl_per_min if fall else None
    projected = fall.projected_mg_dl if fall else None
    predicted_low = fall is not None and fall.predicts_low

    below = g < config.level_1_hypo
    recovered_episode = None
    if state.episode_start is None and (below or predicted_low):
        state.episode_start = t
        state.confirmed = False
        state.clear_run_start = None
    if below:
        state.clear_run_start = None
        if state.below_run_start is None:
            state.below_run_start = t
        if t - state.below_run_start + cadence >= config.episode_ms:
            state.confirmed = True
    else:
        state.below_run_start = None
        if state.episode_start is not None and not predicted_low:
            if state.clear_run_start is None:
                state.clear_run_start = t
            if t - state.clear_run_start + cadence >= config.episode_ms and settled:
                recovered_episode = state.episode_start
                closed.append(("low", state.episode_start, t))
                state.episode_start = None
                state.confirmed = False
                state.clear_run_start = None
        elif predicted_low:
            state.clear_run_start = None

    above = config.hyper_alerts and g > config.level_2_hyper
    if above:
        state.hyper_clear_start = None
        if state.above_run_start is None:
            state.above_run_start = t
        if state.hyper_start is None and t - state.above_run_start + cadence >= config.episode_ms:
            state.hyper_start = state.above_run_start
    else:
        state.above_run_start = None
        if state.hyper_start is not None:
            if state.hyper_clear_start is None:
                state.hyper_clear_start = t
            if t - state.hyper_clear_start + cadence >= config.episode_ms and settled:
                closed.append(("hyper", state.hyper_start, t))
                state.hyper_start = None
                state.hyper_clear_start = None

    return Step(
        reading=reading,
        episode_start=state.episode_start,
        confirmed=state.confirmed,
        below_level_1=below,
        rate_mg_dl_per_min=rate,
        projected_mg_dl=projected,
        predicted_low=predicted_low,
        recovered_episode=recovered_episode,
        hyper_start=state.hyper_start,
        above_level_2_hyper=above,
        closed=tuple(closed),
    )
