"""Thresholds and timings of the real-time alert rules.

Clinical sources: hypoglycaemia levels from the international consensus on time in range
(Battelino et al., Diabetes Care 2019;42:1593-1603, doi:10.2337/dci19-0028); episode start/end
after 15 consecutive minutes beyond / back from the threshold from the 2023 consensus on CGM
data (Battelino et al., Lancet Diabetes Endocrinol 2023;11:42-57,
doi:10.1016/S2213-8587(22)00319-9), as computed by iglu's ``episode_calculation``
(Broll et al. 2021, doi:10.1371/journal.pone.0248560); "urgent low soon" (a projected value of
55 mg/dL within 20 minutes) as Dexcom's G6/G7 predictive alert describes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from glucosestream.domain.alerts.quiet_hours import QuietHours

MINUTE_MS = 60_000


@dataclass(frozen=True)
class AlertConfig:
    """All in mg/dL and milliseconds."""

    level_1_hypo: int = 70
    """Level 1 hypoglycaemia: < 70 mg/dL (3.9 mmol/L)."""
    level_2_hypo: int = 54
    """Level 2 hypoglycaemia: < 54 mg/dL (3.0 mmol/L)."""
    episode_ms: int = 15 * MINUTE_MS
    """Consecutive time beyond a threshold that starts an episode, and back that ends it."""
    max_gap_ms: int = 45 * MINUTE_MS
    """Gaps longer than this are not bridged: they end runs and episodes."""
    soon_threshold: int = 55
    soon_horizon_ms: int = 20 * MINUTE_MS
    rate_window_ms: int = 15 * MINUTE_MS
    """Readings of the last 15 minutes give the rate of change."""
    min_rate_span_ms: int = 10 * MINUTE_MS
    """The rate needs readings spanning at least this long."""
    forecast_max_age_ms: int = 10 * MINUTE_MS
    """A forecast needs a reading that arrived at most this long after it was measured."""
    merge_within_ms: int = 4 * MINUTE_MS
    """Readings closer than this are one bucket for the rate (duplicates, bursts)."""
    min_forecast_readings: int = 3
    """Buckets the rate needs in its window (LoopKit's momentum: more than two samples)."""
    max_step_mg_dl_per_min: float = 6.0
    """A step between consecutive buckets faster than this may be an artefact."""
    slow_fall_mg_dl_per_min: float = 2.0
    """Steps falling no faster than this count as a flat or slowly falling trace."""
    max_fall_mg_dl_per_min: float = 4.0
    """The fastest fall a forecast uses (Kovatchev's rate error grid spans ±4 mg/dL/min)."""
    projection_floor_mg_dl: float = 40.0
    """No projection is shown below this (the lowest value a CGM reports)."""
    default_cadence_ms: int = 5 * MINUTE_MS
    """Assumed sampling interval until the patient's own is known."""
    staleness_ms: int = 15 * MINUTE_MS
    """A reading arriving later than this after its measured_at updates history, never pages."""
    hyper_alerts: bool = False
    """Optional level-2 hyperglycaemia alert (HIGH): > 250 mg/dL for >= 15 minutes."""
    level_2_hyper: int = 250
    quiet_hours: QuietHours | None = None
    """Non-critical alerts raised inside this daily local-time window are silenced."""
    repeat_below_mg_dl: int = 55
    """An unacknowledged URGENT_LOW repeats while readings stay below this (Dexcom: 55 mg/dL)."""
    repeat_every_ms: int = 30 * MINUTE_MS
    """... this long after its last page (Dexcom's default urgent low re-alert: 30 minutes)."""

    def __post_init__(self) -> None:
        if not 0 < self.level_2_hypo < self.level_1_hypo < self.level_2_hyper:
            raise ValueError(
                "thresholds must satisfy 0 < level_2_hypo < level_1_hypo < level_2_hyper"
            )
        for name in (
            "episode_ms",
            "max_gap_ms",
            "soon_horizon_ms",
            "rate_window_ms",
            "default_cadence_ms",
            "staleness_ms",
            "forecast_max_age_ms",
            "merge_within_ms",
            "max_step_mg_dl_per_min",
            "slow_fall_mg_dl_per_min",
            "max_fall_mg_dl_per_min",
            "repeat_every_ms",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.staleness_ms > self.episode_ms:
            raise ValueError(
                "staleness_ms must not exceed episode_ms: pages of one kind closer than the "
                "staleness bound are taken for the same episode"
            )
        if self.min_forecast_readings < 3:
            raise ValueError("min_forecast_readings must be at least 3: two readings are a line")
        if self.min_rate_span_ms > self.rate_window_ms:
            raise ValueError("min_rate_span_ms must not exceed rate_window_ms")
