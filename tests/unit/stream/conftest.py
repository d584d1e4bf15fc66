"""Shared simulated cohorts (simulated once per session: the statistics need 14 days)."""

from __future__ import annotations

import pytest

from stream.simulator import CohortConfig, Phenotype, ReadingBatch, build_cohort
from stream.simulator.cohort import VirtualPatient
from stream.simulator.engine import simulate_readings

PATIENTS_PER_PHENOTYPE = 25
STUDY_DAYS = 14.0


@pytest.fixture(scope="session")
def phenotype_cohorts() -> dict[Phenotype, tuple[list[VirtualPatient], ReadingBatch]]:
    """25 patients of each phenotype over 14 days: the cohort and all its readings."""
    out = {}
    for phenotype in Phenotype:
        config = CohortConfig(
            patients=PATIENTS_PER_PHENOTYPE,
            days=STUDY_DAYS,
            seed=2026,
            phenotype_mix={phenotype: 1.0},
        )
        cohort = build_cohort(config)
        out[phenotype] = (cohort, ReadingBatch.concat(list(simulate_readings(config, cohort))))
    return out
