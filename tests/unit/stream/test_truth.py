"""Ground truth: artefact labels where the sensor distorts a reading; rows keyed by event id."""

from __future__ import annotations

import numpy as np
import pytest

from glucosestream.domain.reading import ReadingStatus
from stream.simulator import (
    NO_TRANSPORT_FAULTS,
    Artefact,
    CohortConfig,
    Phenotype,
    ReadingBatch,
    SensorArtefacts,
    build_cohort,
    ground_truth,
    simulate,
    simulate_readings,
)
from stream.simulator.cohort import VirtualPatient
from stream.simulator.sensor import ARTEFACTS, STATUSES

Cohorts = dict[Phenotype, tuple[list[VirtualPatient], ReadingBatch]]
WARMUP = STATUSES.index(ReadingStatus.WARMUP)


def _label(name: Artefact) -> int:
    return ARTEFACTS.index(name)


def _batch(config: CohortConfig) -> ReadingBatch:
    return ReadingBatch.concat(list(simulate_readings(config)))


def test_each_reading_carries_the_first_artefact_that_distorts_it(
    phenotype_cohorts: Cohorts,
) -> None:
    batch = ReadingBatch.concat([b for _, b in phenotype_cohorts.values()])
    label = batch.artefact
    error = np.abs(batch.glucose - batch.interstitial)
    outside_20_20 = error > np.maximum(20.0, 0.2 * batch.interstitial)
    assert np.array_equal(label == _label(Artefact.COMPRESSION_LOW), batch.compressed)
    warm = ~batch.compressed & (batch.status == WARMUP)
    assert np.array_equal(label == _label(Artefact.WARMUP), warm)
    rest = ~batch.compressed & ~warm
    assert np.array_equal(label[rest] == _label(Artefact.SENSOR_ERROR), outside_20_20[rest])
    assert np.all(label[rest & ~outside_20_20] == _label(Artefact.NONE))
    for artefact in Artefact:
        assert (label == _label(artefact)).any(), artefact
    # Compression lows read low: the label marks readings the sensor pulled down.
    compressed = label == _label(Artefact.COMPRESSION_LOW)
    assert np.median(batch.glucose[compressed] - batch.interstitial[compressed]) < -20


def test_a_noiseless_sensor_without_compression_has_no_artefact_but_warmup() -> None:
    config = CohortConfig(
        patients=6,
        days=12,
        seed=8,
        sensor=SensorArtefacts(compression_lows_per_night=0.0, noise_scale=0.0),
    )
    batch = _batch(config)
    expected = np.where(batch.status == WARMUP, _label(Artefact.WARMUP), _label(Artefact.NONE))
    assert np.array_equal(batch.artefact, expected)
    assert (batch.status == WARMUP).any()


@pytest.mark.parametrize("rate", [0.0, 3.0])
def test_the_first_reading_after_a_signal_loss_gap_is_flagged(rate: float) -> None:
    config = CohortConfig(
        patients=10,
        days=6,
        seed=21,
        libre_share=0.3,
        sensor=SensorArtefacts(signal_loss_per_day=rate),
    )
    cohort = build_cohort(config)
    batch = ReadingBatch.concat(list(simulate_readings(config, cohort)))
    flagged = 0
    for patient in cohort:
        mine = np.flatnonzero(batch.patient == patient.index)
        dt = np.diff(batch.measured_at[mine])
        same_session = batch.session[mine][1:] == batch.session[mine][:-1]
        after_gap = same_session & (dt > 1.5 * patient.cadence_minutes * 60_000)
        flags = batch.after_signal_loss[mine]
        # Within a session, only signal loss removes readings: the flag is exactly the gaps.
        assert np.array_equal(flags[1:][same_session], after_gap[same_session])
        flagged += int(flags.sum())
    if rate == 0.0:
        assert flagged == 0
    else:
        assert flagged >= 0.5 * rate * config.days * config.patients


def test_ground_truth_has_one_row_per_reading_keyed_by_the_delivered_event_id() -> None:
    config = CohortConfig(patients=4, days=1, seed=13)
    rows = list(ground_truth(config))
    delivered = {d.reading.event_id: d.reading for d in simulate(config)}
    assert len({row.event_id for row in rows}) == len(rows)
    assert {row.event_id for row in rows} == set(delivered)
    for row in rows:
        reading = delivered[row.event_id]
        assert (row.patient_id, row.measured_at, row.glucose_mg_dl, row.status) == (
            reading.patient_id,
            reading.measured_at,
            reading.glucose_mg_dl,
            reading.status,
        )
    assert all(40 <= row.glucose_mg_dl <= 400 for row in rows)
    assert any(abs(row.interstitial_mg_dl - row.glucose_mg_dl) > 1 for row in rows)
    assert any(abs(row.plasma_mg_dl - row.interstitial_mg_dl) > 1 for row in rows)


def test_ground_truth_follows_the_cohort_given() -> None:
    config = CohortConfig(
        patients=3,
        days=0.5,
        seed=5,
        faults=NO_TRANSPORT_FAULTS,
        phenotype_mix={Phenotype.TYPE_1: 1},
    )
    cohort = build_cohort(config)
    assert list(ground_truth(config, cohort)) == list(ground_truth(config))
