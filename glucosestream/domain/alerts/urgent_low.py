"""URGENT_LOW."""

from __future__ import annotations

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.model import AlertKind, Candidate
from glucosestream.domain.alerts.tracker import Step


def urgent_low(step: Step, config: AlertConfig) -> Candidate | None:
    """Rule: page URGENT_LOW at the first reading below 54 mg/dL of a low-risk episode.

    Level 2 hypoglycaemia (< 54 mg/dL, 3.0 mmol/L) is "clinically significant" and needs
    immediate action (Battelino et al. 2019, doi:10.2337/dci19-0028); so unlike LOW it does not
    wait 15 minutes for confirmation. A sensor "LOW" (below range, reported as 40) counts.
    """
    if step.episode_start is None or step.reading.glucose_mg_dl >= config.level_2_hypo:
        return None
    return Candidate(AlertKind.URGENT_LOW, step.episode_start, step.reading)
