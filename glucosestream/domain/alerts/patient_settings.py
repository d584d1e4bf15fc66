"""A patient's own alert settings, as a clinician sets them, and their validation.

The ranges are those a CGM app offers (Dexcom G6/G7: low alert 60-100 mg/dL, high alert
120-400 mg/dL); the defaults are the consensus thresholds (Battelino et al., Diabetes Care
2019;42:1593-1603, doi:10.2337/dci19-0028: level 1 hypoglycaemia < 70 mg/dL; level 2
hyperglycaemia > 250 mg/dL). Settings change the real-time alerts only: the clinical metrics and
episodes of the ELT keep the consensus thresholds whatever a patient's alarm is set to.

Quiet hours silence the non-critical alerts (LOW, HIGH, RECOVERED) during a daily window of the
patient's local time; URGENT_LOW and URGENT_LOW_SOON always page (:mod:`.quiet_hours`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glucosestream.domain.alerts.config import AlertConfig
from glucosestream.domain.alerts.quiet_hours import QuietHours

LOW_RANGE = (60, 100)
"""Allowed low alert thresholds (mg/dL, inclusive)."""
HIGH_RANGE = (120, 400)
"""Allowed high alert thresholds (mg/dL, inclusive)."""
FIELDS = ("low_mg_dl", "high_mg_dl", "high_alerts", "quiet_hours")
QUIET_HOURS_OFF = "off"


class InvalidAlertSettings(ValueError):
    """A setting out of its allowed range or of the wrong type; the message names both."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class AlertSettings:
    """One patient's alert settings; every instance is valid (checked on construction)."""

    low_mg_dl: int = 70
    """LOW pages after 15 minutes below this; an episode opens below it (60-100 mg/dL)."""
    high_mg_dl: int = 250
    """HIGH pages after 15 minutes above this, when high alerts are on (120-400 mg/dL)."""
    high_alerts: bool = False
    quiet_hours: QuietHours | None = None

    def __post_init__(self) -> None:
        _check_whole_in("low_mg_dl", self.low_mg_dl, LOW_RANGE)
        _check_whole_in("high_mg_dl", self.high_mg_dl, HIGH_RANGE)
        if not isinstance(self.high_alerts, bool):
            raise InvalidAlertSettings("high_alerts", "must be true or false")
        if self.quiet_hours is not None and not isinstance(self.quiet_hours, QuietHours):
            raise InvalidAlertSettings("quiet_hours", "must be a QuietHours or null")

    def applied_to(self, config: AlertConfig) -> AlertConfig:
        """``config`` with this patient's thresholds, HIGH switch and quiet hours."""
        return dataclasses.replace(
            config,
            level_1_hypo=self.low_mg_dl,
            level_2_hyper=self.high_mg_dl,
            hyper_alerts=self.high_alerts,
            quiet_hours=self.quiet_hours,
        )

    def updated(self, changes: Mapping[str, Any]) -> AlertSettings:
        """These settings with ``changes`` (JSON values, as :meth:`to_dict` writes them) applied.

        Raises :class:`InvalidAlertSettings` for an unknown field or a bad value; ``self`` is
        never changed, so a refused update leaves the stored settings as they were.
        """
        if not isinstance(changes, Mapping):
            raise InvalidAlertSettings("settings", "must be a JSON object")
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise InvalidAlertSettings(
                unknown[0], f"unknown setting; the settings are {', '.join(FIELDS)}"
            )
        values: dict[str, Any] = {k: v for k, v in changes.items() if k != "quiet_hours"}
        if "quiet_hours" in changes:
            values["quiet_hours"] = _quiet_hours_of(changes["quiet_hours"])
        return dataclasses.replace(self, **values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "low_mg_dl": self.low_mg_dl,
            "high_mg_dl": self.high_mg_dl,
            "high_alerts": self.high_alerts,
            "quiet_hours": None if self.quiet_hours is None else self.quiet_hours.to_text(),
        }

    def to_public_dict(self) -> dict[str, Any]:
        """The settings as the API answers and the CLI prints them: quiet hours that are off
        read ``"off"``, the value a client sends to turn them off (stored as null, which
        :meth:`to_dict` keeps writing)."""
        return {**self.to_dict(), "quiet_hours": self._quiet_hours_text()}

    def _quiet_hours_text(self) -> str:
        return QUIET_HOURS_OFF if self.quiet_hours is None else self.quiet_hours.to_text()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AlertSettings:
        """Stored settings (``None``: none stored, the defaults)."""
        return cls() if not data else cls().updated(data)


def _check_whole_in(field: str, value: Any, bounds: tuple[int, int]) -> None:
    low, high = bounds
    allowed = f"allowed range {low}-{high} mg/dL"
    # bool is an int in Python; JSON true is not a threshold.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAlertSettings(field, f"must be a whole number of mg/dL ({allowed})")
    if not low <= value <= high:
        raise InvalidAlertSettings(field, f"{value} is out of range ({allowed})")


def _quiet_hours_of(value: Any) -> QuietHours | None:
    if value is None or value == QUIET_HOURS_OFF:
        return None
    if not isinstance(value, str):
        raise InvalidAlertSettings("quiet_hours", 'must be "HH:MM-HH:MM", "off" or null')
    try:
        return QuietHours.parse(value)
    except ValueError as error:
        raise InvalidAlertSettings("quiet_hours", str(error)) from None
