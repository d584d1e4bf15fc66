"""URGENT_LOW_SOON."""

from __future__ import annotations

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.model import AlertKind, Candidate
from glucosestream.domain.alerts.tracker import Step


def urgent_low_soon(step: Step, config: AlertConfig) -> Candidate | None:
    """Rule: page URGENT_LOW_SOON when the recent fall projects below 55 mg/dL within 20 min.

    projected = g + rate × 20 min (mg/dL), the rate (mg/dL/min) the least-squares slope of the
    cleaned readings of the last 15 minutes, capped at −4 mg/dL/min, with no forecast from
    windows too thin or holding a step artefact (:mod:`.fall_forecast` gives each condition and
    its source). Dexcom's G6 "Urgent Low Soon" alert forecasts the same 55 mg/dL within 20
    minutes (Puhr et al., J Diabetes Sci Technol 2020;14:83-86, doi:10.1177/1932296819840691).
    Raised only from a reading that arrived at most 10 minutes after it was measured: an old
    forecast is no warning. Not raised when already below 55: URGENT_LOW covers that.
    """
    if step.episode_start is None or not step.predicted_low:
        return None
    if step.reading.lateness_ms() > config.forecast_max_age_ms:
        return None
    if step.reading.glucose_mg_dl < config.soon_threshold:
        return None
    return Candidate(
        AlertKind.URGENT_LOW_SOON,
        step.episode_start,
        step.reading,
        rate_mg_dl_per_min=step.rate_mg_dl_per_min,
        projected_mg_dl=step.projected_mg_dl,
    )
