"""Virtual patients: phenotype, device, time zone, identity and physiological parameters.

Each patient's parameters are drawn from the patient's own random stream, derived from the seed
as ``SeedSequence(seed, spawn_key=(index,))`` (exactly what ``SeedSequence(seed).spawn(n)``
gives child ``index``). Phenotypes are assigned by a largest-deficit rule on the prefix of the
cohort, so every prefix has the configured mix to within one patient. Together this makes
patient ``k`` the same whatever the cohort size.

Parameter ranges (mg/dL, minutes, µU/mL; body-weight scaled where the source is per kg):

* Bergman minimal model: glucose effectiveness ``SG`` ~0.01-0.03 /min, remote insulin action
  rate ``p2`` ~0.025 /min, insulin sensitivity ``SI = p3/p2`` ~2-10e-4 /min per µU/mL, lower in
  type 2 and in many adults with type 1 (Bergman et al. 1979, doi:10.1152/ajpendo.1979.236.6.E667).
* Hovorka et al. 2004 (doi:10.1088/0967-3334/25/4/010): carbohydrate bioavailability 0.8, time
  to peak meal appearance ~40 min, subcutaneous insulin time-to-peak 55 min, insulin
  distribution volume 0.12 L/kg, elimination 0.138 /min.
* Glucose distribution volume 1.7 dL/kg and the renal threshold ~180 mg/dL follow the meal
  simulation model of Dalla Man et al. 2007 (doi:10.1109/TBME.2007.893506).
* Carbohydrate-counting error of adults with type 1 diabetes, ~20 % on average with wide
  spread (Brazeau et al. 2013, doi:10.1016/j.diabres.2012.10.024).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from glucosestream.domain.identity import pseudonymise
from stream.simulator.config import CohortConfig, Phenotype

INSULIN_UNIT_MICRO_U = 1.0e6
"""One unit of insulin in µU."""
MEAL_BIOAVAILABILITY = 0.8
"""Fraction of ingested carbohydrate that appears in plasma (Hovorka et al. 2004)."""
REFERENCE_GLUCOSE_MG_DL = 140.0
"""Glucose at which a correction factor is quoted: insulin action scales with glucose."""


class DeviceKind(Enum):
    """A CGM device family: cadence, sensor life and warm-up.

    The values are ``(label, cadence_minutes, session_days, warmup_minutes)``.
    """

    DEXCOM_LIKE = ("cgm5", 5, 10, 120)
    LIBRE_LIKE = ("cgm15", 15, 14, 60)

    @property
    def label(self) -> str:
        return str(self.value[0])

    @property
    def cadence_minutes(self) -> int:
        return int(self.value[1])

    @property
    def session_days(self) -> int:
        return int(self.value[2])

    @property
    def warmup_minutes(self) -> int:
        return int(self.value[3])


@dataclass(frozen=True)
class PatientParameters:
    """Physiology, habits and (type 1) therapy of one patient. Units in the names."""

    body_weight_kg: float
    basal_glucose_mg_dl: float
    glucose_effectiveness_per_min: float
    insulin_sensitivity: float
    """``SI = p3/p2`` in /min per µU/mL."""
    insulin_action_rate_per_min: float
    """``p2``: how fast remote insulin action follows plasma insulin."""
    insulin_clearance_per_min: float
    basal_insulin_micro_u_ml: float
    secretion_gain: float
    """Steady-state insulin secretion per mg/dL above basal glucose (µU/mL/min); 0 in T1."""
    meal_peak_minutes: float
    insulin_peak_minutes: float
    interstitial_lag_minutes: float
    dawn_amplitude: float
    """Relative rise of endogenous glucose production around 06:00 local."""
    morning_resistance: float
    """Relative fall of insulin sensitivity in the morning."""
    counter_regulation_per_min: float
    exercise_uptake_per_min: float
    exercise_sensitisation: float
    exercise_probability: float
    daily_sensitivity_sd: float
    wake_minute: float
    bed_minute: float
    lunch_minute: float
    dinner_minute: float
    breakfast_skip_probability: float
    snack_probability: float
    breakfast_carbs_g: float
    lunch_carbs_g: float
    dinner_carbs_g: float
    snack_carbs_g: float
    basal_rate_u_per_h: float
    """Delivered basal insulin (T1 only; 0 otherwise)."""
    carb_ratio_g_per_u: float
    correction_factor_mg_dl_per_u: float
    carb_count_error_sd: float
    missed_bolus_probability: float
    late_bolus_probability: float
    correction_threshold_mg_dl: float
    hypo_treatment_threshold_mg_dl: float


@dataclass(frozen=True)
class VirtualPatient:
    """One simulated person wearing one CGM device."""

    index: int
    source_id: str
    patient_id: str
    phenotype: Phenotype
    timezone: str
    device: DeviceKind
    device_id: str
    parameters: PatientParameters

    @property
    def cadence_minutes(self) -> int:
        return self.device.cadence_minutes


def patient_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The root of patient ``index``'s random streams (independent of the cohort size)."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


PARAMETER_STREAM, LIFE_STREAM, BEHAVIOUR_STREAM, SENSOR_STREAM, TRANSPORT_STREAM = range(5)


def patient_streams(seed: int, index: int) -> list[np.random.Generator]:
    """Independent generators of a patient: parameters, daily plans, reactive behaviour
    (hypo treatment, corrections), sensor and transport, in that order."""
    return [np.random.default_rng(child) for child in patient_seed(seed, index).spawn(5)]


def assign_phenotypes(config: CohortConfig) -> list[Phenotype]:
    """Phenotype of each patient: the one furthest below its share on the cohort's prefix."""
    order = list(Phenotype)
    counts = dict.fromkeys(order, 0)
    assigned: list[Phenotype] = []
    for k in range(1, config.patients + 1):
        chosen = max(order, key=lambda p: (k * config.share(p) - counts[p], -order.index(p)))
        counts[chosen] += 1
        assigned.append(chosen)
    return assigned


def _lognormal(rng: np.random.Generator, median: float, sd_log: float) -> float:
    return float(median * np.exp(sd_log * rng.standard_normal()))


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def draw_parameters(phenotype: Phenotype, rng: np.random.Generator) -> PatientParameters:
    """Draw one patient's parameters for ``phenotype`` from ``rng``."""
    t1 = phenotype is Phenotype.TYPE_1
    t2 = phenotype is Phenotype.TYPE_2
    weight = float(np.clip(rng.normal(88.0 if t2 else 74.0, 13.0), 48.0, 140.0))
    glucose_volume_dl = 1.7 * weight
    insulin_volume_ml = 120.0 * weight
    clearance = _lognormal(rng, 0.138, 0.1)
    if t1:
        basal_glucose = _lognormal(rng, 160.0, 0.1)
        sg = _lognormal(rng, 0.006, 0.25)
        si = _lognormal(rng, 5.0e-4, 0.3)
    elif t2:
        basal_glucose = _lognormal(rng, 135.0, 0.1)
        sg = _lognormal(rng, 0.015, 0.2)
        si = _lognormal(rng, 2.2e-4, 0.3)
    else:
        basal_glucose = _lognormal(rng, 92.0, 0.05)
        sg = _lognormal(rng, 0.020, 0.15)
        si = _lognormal(rng, 7.0e-4, 0.25)
    p2 = _lognormal(rng, 0.025, 0.15)
    secretion = _lognormal(rng, 0.05 if t2 else 0.25, 0.2) * (0.0 if t1 else 1.0)
    meal_peak = max(_lognormal(rng, 50.0 if not (t1 or t2) else 40.0, 0.15), 30.0)
    insulin_peak = _lognormal(rng, 55.0, 0.15)
    lag = _uniform(rng, 5.0, 10.0)
    dawn = _uniform(rng, 0.05, 0.3) if t1 else _uniform(rng, 0.1, 0.25) if t2 else 0.05
    morning = _uniform(rng, 0.1, 0.3)
    counter = (0.004 if t1 else 0.03 if t2 else 0.1) * _lognormal(rng, 1.0, 0.2)
    uptake = _lognormal(rng, 0.004, 0.25) * (1.0 if t1 else 0.3)
    sensitisation = _uniform(rng, 0.2, 0.8)
    exercise = _uniform(rng, 0.05, 0.5)
    daily_sd = (
        _uniform(rng, 0.15, 0.35)
        if t1
        else _uniform(rng, 0.1, 0.25)
        if t2
        else _uniform(rng, 0.05, 0.15)
    )
    wake = rng.normal(7.0 * 60, 40.0)
    bed = rng.normal(23.0 * 60, 45.0)
    lunch = rng.normal(12.75 * 60, 30.0)
    dinner = rng.normal(19.0 * 60, 40.0)
    skip = _uniform(rng, 0.0, 0.25)
    snack = _uniform(rng, 0.2, 0.8)
    # Meal size scales loosely with body size.
    size = _lognormal(rng, 1.15 if t2 else 1.0, 0.2) * np.sqrt(weight / 74.0)
    # Type 1 therapy: ideal settings follow from the model, the patient's deviate from them.
    basal_ideal_u_h = basal_insulin_for(t1, weight)
    ideal_isf = (
        REFERENCE_GLUCOSE_MG_DL * si * INSULIN_UNIT_MICRO_U / (insulin_volume_ml * clearance)
    )
    meal_rise_per_g = MEAL_BIOAVAILABILITY * 1000.0 / glucose_volume_dl
    # Glucose effectiveness clears part of each meal, so a matched bolus covers ~85 % of it.
    ideal_icr = ideal_isf / (0.85 * meal_rise_per_g)
    basal_error = _lognormal(rng, 1.0, 0.2)
    icr_error = _lognormal(rng, 1.0, 0.25)
    isf_error = _lognormal(rng, 1.0, 0.2)
    carb_error = _uniform(rng, 0.2, 0.4)
    missed = _uniform(rng, 0.03, 0.15)
    late = _uniform(rng, 0.1, 0.3)
    correction = _uniform(rng, 200.0, 280.0)
    hypo = _uniform(rng, 60.0, 75.0)
    basal_insulin = (
        basal_ideal_u_h * INSULIN_UNIT_MICRO_U / 60.0 / insulin_volume_ml / clearance
        if t1
        else _lognormal(rng, 14.0 if t2 else 8.0, 0.2)
    )
    return PatientParameters(
        body_weight_kg=weight,
        basal_glucose_mg_dl=basal_glucose,
        glucose_effectiveness_per_min=sg,
        insulin_sensitivity=si,
        insulin_action_rate_per_min=p2,
        insulin_clearance_per_min=clearance,
        basal_insulin_micro_u_ml=basal_insulin,
        secretion_gain=secretion,
        meal_peak_minutes=meal_peak,
        insulin_peak_minutes=insulin_peak,
        interstitial_lag_minutes=lag,
        dawn_amplitude=dawn,
        morning_resistance=morning,
        counter_regulation_per_min=counter,
        exercise_uptake_per_min=uptake,
        exercise_sensitisation=sensitisation,
        exercise_probability=exercise,
        daily_sensitivity_sd=daily_sd,
        wake_minute=float(wake),
        bed_minute=float(bed),
        lunch_minute=float(lunch),
        dinner_minute=float(dinner),
        breakfast_skip_probability=skip,
        snack_probability=snack,
        breakfast_carbs_g=float(40.0 * size),
        lunch_carbs_g=float(60.0 * size),
        dinner_carbs_g=float(70.0 * size),
        snack_carbs_g=float(20.0 * size),
        basal_rate_u_per_h=basal_ideal_u_h * basal_error if t1 else 0.0,
        carb_ratio_g_per_u=ideal_icr * icr_error if t1 else 0.0,
        correction_factor_mg_dl_per_u=ideal_isf * isf_error if t1 else 0.0,
        carb_count_error_sd=carb_error,
        missed_bolus_probability=missed,
        late_bolus_probability=late,
        correction_threshold_mg_dl=correction,
        hypo_treatment_threshold_mg_dl=hypo,
    )


def basal_insulin_for(type_1: bool, weight_kg: float) -> float:
    """Ideal basal insulin in U/h: ~0.27 U/kg/day (45 % of a 0.6 U/kg total daily dose)."""
    return 0.27 * weight_kg / 24.0 if type_1 else 0.0


def build_cohort(config: CohortConfig) -> list[VirtualPatient]:
    """The cohort's patients, in index order; pure function of the config."""
    phenotypes = assign_phenotypes(config)
    cohort: list[VirtualPatient] = []
    for index, phenotype in enumerate(phenotypes):
        params_rng = patient_streams(config.seed, index)[PARAMETER_STREAM]
        timezone = config.timezones[int(params_rng.integers(len(config.timezones)))]
        device = (
            DeviceKind.LIBRE_LIKE
            if params_rng.random() < config.libre_share
            else DeviceKind.DEXCOM_LIKE
        )
        source_id = f"sim-{index:06d}"
        cohort.append(
            VirtualPatient(
                index=index,
                source_id=source_id,
                patient_id=pseudonymise(source_id, config.pseudonym_key),
                phenotype=phenotype,
                timezone=timezone,
                device=device,
                device_id=f"{source_id}-{device.label}",
                parameters=draw_parameters(phenotype, params_rng),
            )
        )
    return cohort


def parameter_column(patients: list[VirtualPatient], name: str) -> NDArray[np.float64]:
    """One parameter of every patient, as a column for the vectorised model."""
    return np.array([getattr(p.parameters, name) for p in patients], dtype=np.float64)
