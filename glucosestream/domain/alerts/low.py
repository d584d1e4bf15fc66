"""LOW."""

from __future__ import annotations

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.model import AlertKind, Candidate
from glucosestream.domain.alerts.tracker import Step


def low(step: Step, config: AlertConfig) -> Candidate | None:
    """Rule: page LOW when a level-1 hypoglycaemic episode is confirmed.

    Confirmed = readings below 70 mg/dL (3.9 mmol/L) for at least 15 consecutive minutes, the
    episode definition of the 2023 CGM consensus (Battelino et al., Lancet Diabetes Endocrinol
    2023, doi:10.1016/S2213-8587(22)00319-9) as iglu's ``episode_calculation`` computes it. The
    15-minute wait keeps short dips and sensor noise from paging.
    """
    if step.episode_start is None or not step.confirmed or not step.below_level_1:
        return None
    return Candidate(AlertKind.LOW, step.episode_start, step.reading)
