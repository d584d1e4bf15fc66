"""Configuration of a simulated cohort: who the patients are and how the plumbing misbehaves.

Every rate is a probability in ``[0, 1]`` or a non-negative count per day; :class:`CohortConfig`
checks them when it is built, so a bad value fails at the edge with a message naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_START_MS = 1_767_571_200_000
"""2026-01-05T00:00:00Z, a Monday."""

DEFAULT_PSEUDONYM_KEY = b"glucosestream-simulator-demo-key"
"""Demo key for simulated cohorts only; real sources take their key from settings."""

DEFAULT_TIMEZONES: tuple[str, ...] = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
)


class Phenotype(StrEnum):
    """Diabetes phenotype of a virtual patient."""

    TYPE_1 = "T1"
    TYPE_2 = "T2"
    NO_DIABETES = "ND"


DEFAULT_PHENOTYPE_MIX: Mapping[Phenotype, float] = MappingProxyType(
    {Phenotype.TYPE_1: 0.4, Phenotype.TYPE_2: 0.4, Phenotype.NO_DIABETES: 0.2}
)


def _check_probability(owner: str, name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ValueError(f"{owner}.{name} must be a probability in [0, 1], got {value!r}")


def _check_non_negative(owner: str, name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}.{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class TransportFaults:
    """How often the path from phone to stream misbehaves.

    Parameters
    ----------
    duplicate_rate
        Probability that a reading is delivered a second time (an uploader retry).
    late_rate
        Probability that a single reading is held back and delivered minutes to hours late.
    reorder_rate
        Probability that a reading arrives after the one measured after it.
    outages_per_day
        Mean number of phone-offline windows per patient-day; everything measured during an
        outage arrives as one backlog when the phone reconnects.
    max_late_minutes
        Upper bound of the delay of a late reading and of an outage's length.
    """

    duplicate_rate: float = 0.005
    late_rate: float = 0.002
    reorder_rate: float = 0.01
    outages_per_day: float = 0.1
    max_late_minutes: float = 240.0

    def __post_init__(self) -> None:
        for name in ("duplicate_rate", "late_rate", "reorder_rate"):
            _check_probability("TransportFaults", name, getattr(self, name))
        _check_non_negative("TransportFaults", "outages_per_day", self.outages_per_day)
        if not (isinstance(self.max_late_minutes, int | float) and self.max_late_minutes >= 10):
            raise ValueError(
                f"TransportFaults.max_late_minutes must be >= 10, got {self.max_late_minutes!r}"
            )


NO_TRANSPORT_FAULTS = TransportFaults(
    duplicate_rate=0.0, late_rate=0.0, reorder_rate=0.0, outages_per_day=0.0
)
"""A perfect network: every reading arrives once, in order, within seconds."""


@dataclass(frozen=True)
class SensorArtefacts:
    """How ugly the sensor data is.

    Parameters
    ----------
    signal_loss_per_day
        Mean number of signal-loss gaps per patient-day (10 min to a few hours, no readings).
    compression_lows_per_night
        Probability that a night has a compression low (a false drop while lying on the sensor).
    noise_scale
        Multiplier of the sensor noise and calibration drift (0 gives a noiseless sensor).
    """

    signal_loss_per_day: float = 0.3
    compression_lows_per_night: float = 0.1
    noise_scale: float = 1.0

    def __post_init__(self) -> None:
        _check_non_negative("SensorArtefacts", "signal_loss_per_day", self.signal_loss_per_day)
        _check_probability(
            "SensorArtefacts", "compression_lows_per_night", self.compression_lows_per_night
        )
        _check_non_negative("SensorArtefacts", "noise_scale", self.noise_scale)


@dataclass(frozen=True)
class CohortConfig:
    """A simulated cohort.

    Parameters
    ----------
    patients
        Number of virtual patients (>= 1).
    days
        Simulated days (> 0), from ``start_ms``.
    seed
        Seed of every random draw; the same seed and config give the same output.
    start_ms
        Start of the simulation, UTC milliseconds since the epoch.
    phenotype_mix
        Share of each phenotype; shares lie in [0, 1] and sum to 1. Missing phenotypes count 0.
    timezones
        IANA zones the patients live in (drawn uniformly per patient).
    libre_share
        Share of patients wearing a 15-minute, 14-day (Libre-like) sensor; the rest wear a
        5-minute, 10-day (Dexcom-like) one.
    sensor
        Sensor artefact rates.
    faults
        Transport fault rates.
    pseudonym_key
        Key of the patient pseudonyms (>= 16 bytes).
    """

    patients: int
    days: float
    seed: int = 0
    start_ms: int = DEFAULT_START_MS
    phenotype_mix: Mapping[Phenotype, float] = field(default_factory=lambda: DEFAULT_PHENOTYPE_MIX)
    timezones: tuple[str, ...] = DEFAULT_TIMEZONES
    libre_share: float = 0.4
    sensor: SensorArtefacts = field(default_factory=SensorArtefacts)
    faults: TransportFaults = field(default_factory=TransportFaults)
    pseudonym_key: bytes = DEFAULT_PSEUDONYM_KEY

    def __post_init__(self) -> None:
        if isinstance(self.patients, bool) or not isinstance(self.patients, int):
            raise ValueError(f"CohortConfig.patients must be an int, got {self.patients!r}")
        if self.patients < 1:
            raise ValueError(f"CohortConfig.patients must be >= 1, got {self.patients}")
        if not (isinstance(self.days, int | float) and math.isfinite(self.days) and self.days > 0):
            raise ValueError(f"CohortConfig.days must be a finite number > 0, got {self.days!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"CohortConfig.seed must be an int >= 0, got {self.seed!r}")
        if not isinstance(self.start_ms, int) or self.start_ms < 0:
            raise ValueError(f"CohortConfig.start_ms must be an int >= 0, got {self.start_ms!r}")
        self._check_mix()
        if not self.timezones:
            raise ValueError("CohortConfig.timezones must name at least one zone")
        for name in self.timezones:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"CohortConfig.timezones: unknown time zone {name!r}") from None
        _check_probability("CohortConfig", "libre_share", self.libre_share)
        if not isinstance(self.pseudonym_key, bytes) or len(self.pseudonym_key) < 16:
            raise ValueError("CohortConfig.pseudonym_key must be at least 16 bytes")

    def _check_mix(self) -> None:
        unknown = [key for key in self.phenotype_mix if not isinstance(key, Phenotype)]
        if unknown:
            raise ValueError(f"CohortConfig.phenotype_mix has unknown phenotypes {unknown!r}")
        for phenotype, share in self.phenotype_mix.items():
            _check_probability("CohortConfig", f"phenotype_mix[{phenotype}]", share)
        total = sum(self.phenotype_mix.values())
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"CohortConfig.phenotype_mix shares must sum to 1, got {total:.6g}")

    def share(self, phenotype: Phenotype) -> float:
        """The configured share of ``phenotype`` (0 when it is not in the mix)."""
        return float(self.phenotype_mix.get(phenotype, 0.0))

    @property
    def duration_minutes(self) -> int:
        """Simulated minutes, rounded up to a whole minute."""
        return math.ceil(self.days * 1440)
