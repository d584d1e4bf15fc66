"""RECOVERED."""

from __future__ import annotations

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.model import AlertKind, Candidate
from glucosestream.domain.alerts.tracker import Step


def recovered(step: Step, config: AlertConfig) -> Candidate | None:
    """Rule: page RECOVERED when a low-risk episode ends: 15 consecutive minutes at or above
    70 mg/dL with no projected urgent low (episode end, Battelino et al. 2023,
    doi:10.1016/S2213-8587(22)00319-9).

    The engine sends it only for an episode that paged LOW or URGENT_LOW: an all-clear for an
    episode nobody was told about is noise. A gap over 45 minutes ends an episode without it: no
    data is not a recovery.
    """
    if step.recovered_episode is None:
        return None
    return Candidate(AlertKind.RECOVERED, step.recovered_episode, step.reading)
