"""Validation of the simulator configuration."""

from __future__ import annotations

from typing import Any

import pytest

from stream.simulator import CohortConfig, Phenotype, SensorArtefacts, TransportFaults


def test_defaults_are_valid_and_mix_is_40_40_20() -> None:
    config = CohortConfig(patients=10, days=1)
    assert config.share(Phenotype.TYPE_1) == pytest.approx(0.4)
    assert config.share(Phenotype.TYPE_2) == pytest.approx(0.4)
    assert config.share(Phenotype.NO_DIABETES) == pytest.approx(0.2)
    assert config.duration_minutes == 1440


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patients": 0}, "patients must be >= 1"),
        ({"patients": 2.5}, "patients must be an int"),
        ({"days": 0}, "days must be a finite number > 0"),
        ({"days": float("nan")}, "days must be a finite number > 0"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"phenotype_mix": {Phenotype.TYPE_1: 0.5}}, "must sum to 1"),
        ({"phenotype_mix": {Phenotype.TYPE_1: 1.5, Phenotype.TYPE_2: -0.5}}, "probability"),
        ({"phenotype_mix": {"T1": 1.0}}, "unknown phenotypes"),
        ({"timezones": ()}, "at least one zone"),
        ({"timezones": ("Mars/Olympus_Mons",)}, "unknown time zone"),
        ({"libre_share": 1.2}, "libre_share"),
        ({"pseudonym_key": b"short"}, "at least 16 bytes"),
    ],
)
def test_invalid_cohort_config_names_the_field(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"patients": 3, "days": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        CohortConfig(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duplicate_rate": -0.1}, "duplicate_rate"),
        ({"late_rate": 1.01}, "late_rate"),
        ({"reorder_rate": float("nan")}, "reorder_rate"),
        ({"outages_per_day": -1.0}, "outages_per_day"),
        ({"max_late_minutes": 5.0}, "max_late_minutes"),
    ],
)
def test_invalid_transport_faults(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TransportFaults(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signal_loss_per_day": -0.5}, "signal_loss_per_day"),
        ({"compression_lows_per_night": 2.0}, "compression_lows_per_night"),
        ({"noise_scale": float("inf")}, "noise_scale"),
    ],
)
def test_invalid_sensor_artefacts(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SensorArtefacts(**kwargs)
