"""Acknowledging a raised alert (``POST /v1/alerts/{alert_id}/ack``, the dashboard, the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from glucosestream.domain.alerts.engine import PatientAlertState
from glucosestream.domain.alerts.model import Acknowledgement


class UnknownAlert(LookupError):
    """The patient has no recorded alert of this id (never raised, or forgotten after ~24 h)."""


@dataclass(frozen=True)
class AcknowledgeResult:
    acknowledgement: Acknowledgement
    new: bool
    """False: it had been acknowledged before (the earlier acknowledgement is kept)."""


def acknowledge(state: PatientAlertState, alert_id: str, at_ms: int, by: str) -> AcknowledgeResult:
    """Record (in place) that ``by`` acknowledged the alert ``alert_id`` at ``at_ms``.

    Idempotent: acknowledging again changes nothing and returns the first acknowledgement, so a
    retried request is harmless. Acknowledging any page of an URGENT_LOW episode (its first
    page or a repeat) stops the episode's repeats. Raises :class:`UnknownAlert`.
    """
    if not any(p.alert_id == alert_id for p in state.paged):
        raise UnknownAlert(alert_id)
    for existing in state.acknowledged:
        if existing.alert_id == alert_id:
            return AcknowledgeResult(existing, new=False)
    acknowledgement = Acknowledgement(alert_id, at_ms, by)
    state.acknowledged.append(acknowledgement)
    return AcknowledgeResult(acknowledgement, new=True)
