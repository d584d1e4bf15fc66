"""Run the engine over a whole history, reading by reading in arrival order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.engine import PatientAlertState, evaluate
from glucosestream.domain.alerts.model import Alert, AlertReading


def replay(
    readings: Iterable[tuple[str, AlertReading]], config: AlertConfig | None = None
) -> list[Alert]:
    """Alerts for ``(patient_id, reading)`` pairs delivered one by one in ``arrived_at`` order.

    Each alert is raised at its reading's arrival (``raised_at = arrived_at``), so a replay is a
    pure function of its input. ``glucosestream alerts replay`` sets ``arrived_at = measured_at``.
    """
    config = config or AlertConfig()
    ordered = sorted(readings, key=lambda pair: pair[1].arrived_at)
    states: dict[str, PatientAlertState] = defaultdict(PatientAlertState)
    alerts: list[Alert] = []
    for patient_id, reading in ordered:
        evaluation = evaluate(states[patient_id], patient_id, [reading], reading.arrived_at, config)
        alerts.extend(evaluation.alerts)
    return alerts
