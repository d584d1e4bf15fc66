"""URGENT_LOW repeated while unacknowledged."""

from __future__ import annotations

from collections.abc import Sequence

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.model import Acknowledgement, AlertKind, Candidate, PagedAlert
from glucosestream.domain.alerts.tracker import Step


def urgent_low_repeat(
    step: Step,
    paged: Sequence[PagedAlert],
    acknowledged: Sequence[Acknowledgement],
    config: AlertConfig,
) -> Candidate | None:
    """Rule: repeat an episode's URGENT_LOW when nobody acknowledged it, this reading is below
    55 mg/dL and the episode's last URGENT_LOW page (first or repeat) was at least 30 minutes of
    measured time before it. The n-th repeat carries ``repeat = n``.

    Dexcom G6/G7 re-sound the urgent low alarm every 30 minutes until it is acknowledged while
    glucose stays below 55 mg/dL (3.1 mmol/L); level 2 hypoglycaemia (< 54 mg/dL) needs
    immediate action (Battelino et al. 2019, doi:10.2337/dci19-0028). Measured time, not
    wall-clock time, keeps the rule a function of the data: a replay repeats what live did.
    Pages of the episode measured after this reading count too, so a reading that arrives out of
    order never repeats a page that a later reading already repeated.
    """
    start = step.episode_start
    reading = step.reading
    if start is None or reading.glucose_mg_dl >= config.repeat_below_mg_dl:
        return None
    episode_pages = [p for p in paged if p.kind is AlertKind.URGENT_LOW and p.measured_at >= start]
    if not episode_pages:
        return None
    acknowledged_ids = {a.alert_id for a in acknowledged}
    if any(p.alert_id in acknowledged_ids for p in episode_pages):
        return None
    if reading.measured_at - max(p.measured_at for p in episode_pages) < config.repeat_every_ms:
        return None
    return Candidate(
        AlertKind.URGENT_LOW, episode_pages[0].episode_start, reading, repeat=len(episode_pages)
    )
