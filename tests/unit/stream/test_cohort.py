"""Cohort construction: phenotype mix, identities, devices, reproducibility."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.identity import pseudonymise
from stream.simulator import CohortConfig, DeviceKind, Phenotype, build_cohort
from stream.simulator.cohort import assign_phenotypes


@given(
    t1=st.integers(0, 10),
    t2=st.integers(0, 10),
    nd=st.integers(0, 10),
    patients=st.integers(1, 200),
)
def test_every_prefix_follows_the_mix(t1: int, t2: int, nd: int, patients: int) -> None:
    total = t1 + t2 + nd
    if total == 0:
        return
    mix = {
        Phenotype.TYPE_1: t1 / total,
        Phenotype.TYPE_2: t2 / total,
        Phenotype.NO_DIABETES: nd / total,
    }
    config = CohortConfig(patients=patients, days=1, phenotype_mix=mix)
    counts = Counter(assign_phenotypes(config))
    for phenotype, share in mix.items():
        assert abs(counts[phenotype] - share * patients) < 1.0 + 1e-9


def test_default_cohort_is_40_40_20() -> None:
    counts = Counter(p.phenotype for p in build_cohort(CohortConfig(patients=100, days=1)))
    assert counts == {Phenotype.TYPE_1: 40, Phenotype.TYPE_2: 40, Phenotype.NO_DIABETES: 20}


def test_identities_are_keyed_pseudonyms_of_source_ids() -> None:
    key = b"k" * 32
    cohort = build_cohort(CohortConfig(patients=5, days=1, pseudonym_key=key))
    assert [p.source_id for p in cohort] == [f"sim-{i:06d}" for i in range(5)]
    for patient in cohort:
        assert patient.patient_id == pseudonymise(patient.source_id, key)
        assert patient.device_id.startswith(patient.source_id)
    assert len({p.device_id for p in cohort}) == 5


@settings(max_examples=10, deadline=None)
@given(small=st.integers(1, 8), extra=st.integers(1, 30), seed=st.integers(0, 2**32))
def test_patient_k_does_not_depend_on_cohort_size(small: int, extra: int, seed: int) -> None:
    few = build_cohort(CohortConfig(patients=small, days=1, seed=seed))
    many = build_cohort(CohortConfig(patients=small + extra, days=1, seed=seed))
    assert many[:small] == few


def test_seed_changes_the_patients() -> None:
    a = build_cohort(CohortConfig(patients=5, days=1, seed=1))
    b = build_cohort(CohortConfig(patients=5, days=1, seed=2))
    assert [p.parameters for p in a] != [p.parameters for p in b]


def test_devices_and_zones_follow_the_config() -> None:
    cohort = build_cohort(
        CohortConfig(patients=400, days=1, libre_share=0.25, timezones=("Asia/Kolkata", "UTC"))
    )
    libre = sum(p.device is DeviceKind.LIBRE_LIKE for p in cohort) / len(cohort)
    assert libre == pytest.approx(0.25, abs=0.07)
    assert {p.timezone for p in cohort} == {"Asia/Kolkata", "UTC"}
    assert {p.cadence_minutes for p in cohort} == {5, 15}


def test_parameters_differ_between_patients_and_phenotypes() -> None:
    cohort = build_cohort(CohortConfig(patients=60, days=1))
    by = {ph: [p.parameters for p in cohort if p.phenotype is ph] for ph in Phenotype}
    assert {ph: len(members) for ph, members in by.items()} == {
        Phenotype.TYPE_1: 24,
        Phenotype.TYPE_2: 24,
        Phenotype.NO_DIABETES: 12,
    }
    # Only type 1 patients inject insulin; only the others secrete it.
    assert all(p.basal_rate_u_per_h > 0 and p.secretion_gain == 0 for p in by[Phenotype.TYPE_1])
    for phenotype in (Phenotype.TYPE_2, Phenotype.NO_DIABETES):
        assert all(p.basal_rate_u_per_h == 0 and p.secretion_gain > 0 for p in by[phenotype])
    assert len({p.insulin_sensitivity for p in by[Phenotype.TYPE_1]}) == len(by[Phenotype.TYPE_1])
