"""Which readings the alert rules may page on."""

from __future__ import annotations

from glucosestream.domain.reading import ReadingStatus

NOT_FOR_ALERTS = frozenset({ReadingStatus.WARMUP, ReadingStatus.CALIBRATION})
"""Sensor warm-up and calibration values are not reliable enough to page on (they are still
stored and count in the lake's metrics)."""


def may_alert(status: ReadingStatus) -> bool:
    return status not in NOT_FOR_ALERTS
