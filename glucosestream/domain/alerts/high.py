"""HIGH (optional, off by default)."""

from __future__ import annotations

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.model import AlertKind, Candidate
from glucosestream.domain.alerts.tracker import Step


def high(step: Step, config: AlertConfig) -> Candidate | None:
    """Rule: page HIGH when a level-2 hyperglycaemic episode is confirmed: readings above
    250 mg/dL (13.9 mmol/L) for at least 15 consecutive minutes (Battelino et al. 2023,
    doi:10.1016/S2213-8587(22)00319-9). Enabled with ``AlertConfig(hyper_alerts=True)``.
    """
    if not config.hyper_alerts or step.hyper_start is None or not step.above_level_2_hyper:
        return None
    return Candidate(AlertKind.HIGH, step.hyper_start, step.reading)
