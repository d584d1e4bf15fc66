"""Real-time alert rules and the engine that applies them (DESIGN.md §4).

One engine serves the Lambda consumer, the local runner and ``glucosestream alerts replay``.
"""

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.engine import Evaluation, PatientAlertState, evaluate
from glucosestream.domain.alerts.model import Alert, AlertKind, AlertReading, Severity

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertKind",
    "AlertReading",
    "Evaluation",
    "PatientAlertState",
    "Severity",
    "evaluate",
]
