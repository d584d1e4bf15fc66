"""Glucose dynamics: basic physiology and cohort statistics against published ranges.

Reference ranges (sensor glucose, 14 days):

* Type 1 diabetes: real-world CGM users have a mean time in range 70-180 mg/dL of roughly
  50-70 % and a CV of 30-45 % (T1D Exchange, Foster et al. 2019, doi:10.1089/dia.2018.0384;
  consensus targets and ranges in Battelino et al. 2019, doi:10.2337/dci19-0028).
* Type 2 diabetes (not on intensive insulin): TIR about 60-85 %, CV 20-35 % (Battelino 2019
  targets TIR > 70 % and CV <= 36 %).
* No diabetes: TIR 70-180 > 95 % and CV < 20 %; healthy participants in Shah et al. 2019
  (JCEM, doi:10.1210/jc.2018-02763) spent ~96 % in 70-140, with a mean CV of ~17 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from stream.simulator import Phenotype, ReadingBatch
from stream.simulator.cohort import VirtualPatient, build_cohort
from stream.simulator.config import CohortConfig
from stream.simulator.physiology import ChunkInputs, CohortPhysiology
from stream.simulator.sensor import STATUSES

Cohorts = dict[Phenotype, tuple[list[VirtualPatient], ReadingBatch]]


def glycaemic_summary(glucose: np.ndarray) -> tuple[float, float]:
    """Time in range 70-180 (inclusive, %) and CV (100 x sample SD / mean, %)."""
    values = glucose.astype(np.float64)
    tir = 100.0 * float(np.mean((values >= 70) & (values <= 180)))
    cv = 100.0 * float(values.std(ddof=1) / values.mean())
    return tir, cv


def per_patient(batch: ReadingBatch) -> dict[int, np.ndarray]:
    """Sensor glucose of each patient, warm-up readings excluded."""
    warm = STATUSES.index(STATUSES[3])
    keep = batch.status != warm
    return {
        int(col): batch.glucose[keep & (batch.patient == col)] for col in np.unique(batch.patient)
    }


@pytest.mark.parametrize(
    ("phenotype", "tir_range", "cv_range"),
    [
        (Phenotype.TYPE_1, (50.0, 70.0), (30.0, 45.0)),
        (Phenotype.TYPE_2, (60.0, 85.0), (20.0, 35.0)),
        (Phenotype.NO_DIABETES, (95.0, 100.0), (0.0, 20.0)),
    ],
)
def test_cohort_statistics_fall_in_published_ranges(
    phenotype_cohorts: Cohorts,
    phenotype: Phenotype,
    tir_range: tuple[float, float],
    cv_range: tuple[float, float],
) -> None:
    _, batch = phenotype_cohorts[phenotype]
    summaries = [glycaemic_summary(g) for g in per_patient(batch).values()]
    mean_tir = float(np.mean([s[0] for s in summaries]))
    mean_cv = float(np.mean([s[1] for s in summaries]))
    assert tir_range[0] <= mean_tir <= tir_range[1], f"{phenotype}: mean TIR {mean_tir:.1f}"
    assert cv_range[0] <= mean_cv <= cv_range[1], f"{phenotype}: mean CV {mean_cv:.1f}"


def test_some_type_1_patients_have_night_time_lows(phenotype_cohorts: Cohorts) -> None:
    _, batch = phenotype_cohorts[Phenotype.TYPE_1]
    local_minute = (batch.measured_at // 60_000 + batch.utc_offset) % 1440
    night_low = (local_minute < 360) & (batch.glucose < 70) & ~batch.compressed
    patients_with = {int(col) for col in np.unique(batch.patient[night_low])}
    assert len(patients_with) >= 0.2 * len(np.unique(batch.patient))


def test_type_1_is_more_variable_than_type_2_than_no_diabetes(phenotype_cohorts: Cohorts) -> None:
    cv = {
        phenotype: np.mean([glycaemic_summary(g)[1] for g in per_patient(batch).values()])
        for phenotype, (_, batch) in phenotype_cohorts.items()
    }
    assert cv[Phenotype.TYPE_1] > cv[Phenotype.TYPE_2] > cv[Phenotype.NO_DIABETES]


def _quiet_inputs(steps: int, n: int) -> ChunkInputs:
    zeros = np.zeros((steps, n))
    return ChunkInputs(
        carbs_g=zeros.copy(),
        bolus_u=zeros.copy(),
        asleep=zeros.copy(),
        exercise=zeros.copy(),
        compression=zeros.copy(),
        sensitivity=np.ones((steps, n)),
        minute_of_day=np.full((steps, n), 14 * 60, dtype=np.int64),  # mid-afternoon, no dawn
    )


def _one(phenotype: Phenotype, seed: int = 5) -> CohortPhysiology:
    config = CohortConfig(patients=1, days=1, seed=seed, phenotype_mix={phenotype: 1.0})
    return CohortPhysiology(build_cohort(config), seed)


@pytest.mark.parametrize("phenotype", list(Phenotype))
def test_fasting_state_without_inputs_is_steady(phenotype: Phenotype) -> None:
    body = _one(phenotype)
    start = float(body.g[0])
    traces = body.advance(_quiet_inputs(360, 1))
    # Only a basal-insulin dosing error moves a fasting type 1 patient, and only slowly.
    tolerance = 0.35 * start if phenotype is Phenotype.TYPE_1 else 2.0
    assert np.all(np.abs(traces.glucose[:, 0] - start) <= tolerance)


def test_meal_raises_glucose_and_non_diabetic_recovers() -> None:
    body = _one(Phenotype.NO_DIABETES)
    start = float(body.g[0])
    inputs = _quiet_inputs(300, 1)
    inputs.carbs_g[10, 0] = 60.0
    glucose = body.advance(inputs).glucose[:, 0]
    assert glucose.max() > start + 20.0
    assert glucose.max() < 200.0
    assert abs(glucose[-1] - start) < 15.0


def test_bolus_lowers_type_1_glucose_and_interstitium_lags() -> None:
    body = _one(Phenotype.TYPE_1)
    inputs = _quiet_inputs(240, 1)
    inputs.bolus_u[0, 0] = 4.0
    traces = body.advance(inputs)
    glucose, interstitial = traces.glucose[:, 0], traces.interstitial[:, 0]
    assert glucose.min() < glucose[0] - 20.0
    # While glucose falls the interstitial value stays above it (first-order lag).
    lowest = int(np.argmin(glucose))
    falling_from = int(np.argmax(glucose[:lowest])) + 30  # once the lag has caught up
    assert lowest - falling_from > 60
    assert np.all(interstitial[falling_from:lowest] > glucose[falling_from:lowest])
