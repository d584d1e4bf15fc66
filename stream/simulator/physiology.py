"""Glucose-insulin dynamics of the cohort, integrated per minute and vectorised over patients.

The model (all patients in one set of ``(N,)`` state arrays, explicit Euler, 1-minute step):

* **Glucose** — Bergman's minimal model (Bergman et al. 1979,
  doi:10.1152/ajpendo.1979.236.6.E667) with remote insulin action ``X``::

      dG/dt = -(SG + X) G + SG Gb EGP(t) + Ra_meal + Ra_rescue
              + CR (75 - G)+ - U_ex E_now G - k_renal (G - 180)+
      dX/dt = -p2 X + p2 SI(t) (I - Ib)

  ``EGP(t)`` raises endogenous production before waking — the dawn phenomenon (Porcellati et
  al. 2013, doi:10.2337/dc13-2088) — and follows a day-to-day factor; ``SI(t)`` falls in the
  morning (circadian insulin sensitivity, Visentin et al. 2015, doi:10.1089/dia.2014.0192),
  varies from day to day and rises for hours after exercise. ``CR`` is counter-regulation
  below 75 mg/dL (weak in type 1), renal excretion above 180 mg/dL follows Dalla Man et al. 2007
  (doi:10.1109/TBME.2007.893506). During exercise glucose uptake rises in proportion to
  intensity, afterwards insulin sensitivity stays raised (Breton 2008,
  doi:10.1177/193229680800200127).
* **Meals** — Hovorka's two-compartment gut absorption (Hovorka et al. 2004,
  doi:10.1088/0967-3334/25/4/010): ``D1' = -D1/tG``, ``D2' = (D1 - D2)/tG``, ``Ra = D2/tG``,
  with bioavailability 0.8; hypo-treatment carbohydrate uses the same model with ``tG = 20``.
* **Insulin** — type 1: two-compartment subcutaneous absorption of basal and bolus insulin
  (Hovorka et al. 2004): ``S1' = u - S1/tI``, ``S2' = (S1 - S2)/tI``,
  ``I' = S2/(tI VI) - n I``. Type 2 and no diabetes: endogenous secretion above basal follows
  glucose with a delay, ``Y' = a (k (G - Gb)+ - Y)``, ``I' = -n (I - Ib) + Y`` (a static
  secretion term in the spirit of the oral minimal model, Breda et al. 2001,
  doi:10.2337/diabetes.50.1.150).
* **Interstitium** — the sensor sees ``IG' = (G - IG)/tau`` with ``tau`` 5-10 min
  (Rebrin et al. 1999, doi:10.1152/ajpendo.1999.277.3.E561).

Reactive behaviour lives here because it depends on the state: patients treat a perceived low
(interstitial glucose below their threshold) with 15-20 g of fast carbohydrate, at night only
when the low wakes them; people with type 1 give a correction bolus when high for a while.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stream.simulator.cohort import (
    BEHAVIOUR_STREAM,
    INSULIN_UNIT_MICRO_U,
    MEAL_BIOAVAILABILITY,
    VirtualPatient,
    parameter_column,
    patient_streams,
)
from stream.simulator.config import Phenotype

Array = NDArray[np.float64]

RENAL_THRESHOLD_MG_DL = 180.0
RENAL_RATE_PER_MIN = 0.0005
RESCUE_PEAK_MINUTES = 20.0
EXERCISE_MEMORY_MINUTES = 360.0
COMPRESSION_ONSET_MINUTES = 3.0
DECISION_EVERY_MINUTES = 5
CORRECTION_TARGET_MG_DL = 120.0
SECRETION_RATE_PER_MIN = 0.1
COUNTER_REGULATION_MG_DL = 75.0


@dataclass
class ChunkInputs:
    """Per-minute inputs of one chunk, each of shape ``(T, N)``."""

    carbs_g: Array
    bolus_u: Array
    asleep: Array
    exercise: Array
    compression: Array
    sensitivity: Array
    minute_of_day: NDArray[np.int64]


@dataclass
class Traces:
    """Per-minute outputs of one chunk, shape ``(T + 1, N)``; row 0 is the chunk's start."""

    glucose: Array
    interstitial: Array
    compression: Array


def dawn_profile(minute_of_day: NDArray[np.int64]) -> Array:
    """Relative shape of the dawn rise of glucose production: peaks 06:00, ~1.5 h wide."""
    shape: Array = np.exp(-0.5 * ((minute_of_day - 360.0) / 90.0) ** 2)
    return shape


def morning_profile(minute_of_day: NDArray[np.int64]) -> Array:
    """Relative shape of the morning fall of insulin sensitivity: peaks 08:00, ~2 h wide."""
    shape: Array = np.exp(-0.5 * ((minute_of_day - 480.0) / 120.0) ** 2)
    return shape


class CohortPhysiology:
    """State and parameters of all patients; :meth:`advance` integrates one chunk.

    Parameters
    ----------
    patients
        The cohort.
    seed
        The cohort seed (for the patients' behaviour streams).
    """

    def __init__(self, patients: list[VirtualPatient], seed: int) -> None:
        n = len(patients)
        self.n = n
        self._rngs = [patient_streams(seed, p.index)[BEHAVIOUR_STREAM] for p in patients]
        col = {name: parameter_column(patients, name) for name in _PARAMETER_NAMES}
        self.t1 = np.array([p.phenotype is Phenotype.TYPE_1 for p in patients])
        weight = col["body_weight_kg"]
        self.carb_to_mg_dl = MEAL_BIOAVAILABILITY * 1000.0 / (1.7 * weight)
        self.unit_to_micro_u_ml = INSULIN_UNIT_MICRO_U / (120.0 * weight)
        self.gb = col["basal_glucose_mg_dl"]
        self.sg = col["glucose_effectiveness_per_min"]
        self.si = col["insulin_sensitivity"]
        self.p2 = col["insulin_action_rate_per_min"]
        self.n_clear = col["insulin_clearance_per_min"]
        self.ib = col["basal_insulin_micro_u_ml"]
        self.k_sec = col["secretion_gain"]
        self.t_meal = col["meal_peak_minutes"]
        self.t_ins = col["insulin_peak_minutes"]
        self.tau = col["interstitial_lag_minutes"]
        self.dawn = col["dawn_amplitude"]
        self.morning = col["morning_resistance"]
        self.counter = col["counter_regulation_per_min"]
        self.uptake = col["exercise_uptake_per_min"]
        self.sensitise = col["exercise_sensitisation"]
        self.basal_in = col["basal_rate_u_per_h"] / 60.0 * self.unit_to_micro_u_ml
        self.isf = col["correction_factor_mg_dl_per_u"]
        self.correct_above = col["correction_threshold_mg_dl"]
        self.treat_below = col["hypo_treatment_threshold_mg_dl"]
        # Endogenous basal insulin for T2/ND; T1 plasma insulin comes only from the pump/pen.
        self.endo_basal = np.where(self.t1, 0.0, self.n_clear * self.ib)
        # Start at the fasting steady state with basal insulin on board.
        self.g = self.gb.copy()
        self.ig = self.gb.copy()
        s_ss = self.basal_in * self.t_ins
        self.s1 = s_ss.copy()
        self.s2 = s_ss.copy()
        self.i = np.where(self.t1, self.basal_in / self.n_clear, self.ib)
        self.x = self.si * (self.i - self.ib)
        self.y = np.zeros(n)
        self.d1 = np.zeros(n)
        self.d2 = np.zeros(n)
        self.r1 = np.zeros(n)
        self.r2 = np.zeros(n)
        self.e = np.zeros(n)
        self.c = np.zeros(n)
        self.last_rescue = np.full(n, -1.0e9)
        self.last_bolus = np.full(n, -1.0e9)
        self.minute = 0

    def advance(self, inputs: ChunkInputs) -> Traces:
        """Integrate the chunk's ``T`` minutes and return the traces."""
        steps, n = inputs.carbs_g.shape
        decisions = steps // DECISION_EVERY_MINUTES + 1
        chance = np.empty((decisions, n))
        for col, rng in enumerate(self._rngs):
            chance[:, col] = rng.random(decisions)
        egp = self.sg * self.gb * (1.0 + self.dawn * dawn_profile(inputs.minute_of_day))
        egp /= np.sqrt(inputs.sensitivity)
        si_t = self.si * (1.0 - self.morning * morning_profile(inputs.minute_of_day))
        si_t *= inputs.sensitivity
        carbs = inputs.carbs_g * self.carb_to_mg_dl
        bolus = inputs.bolus_u * self.unit_to_micro_u_ml
        has_carbs: set[int] = set(np.flatnonzero(np.any(carbs, axis=1)).tolist())
        has_bolus: set[int] = set(np.flatnonzero(np.any(bolus, axis=1)).tolist())
        exercising = inputs.exercise
        has_exercise: set[int] = set(np.flatnonzero(np.any(exercising, axis=1)).tolist())
        glucose = np.empty((steps + 1, n))
        interstitial = np.empty((steps + 1, n))
        compression = np.empty((steps + 1, n))
        glucose[0], interstitial[0], compression[0] = self.g, self.ig, self.c
        g, ig, x, i, y = self.g, self.ig, self.x, self.i, self.y
        s1, s2, d1, d2, r1, r2 = self.s1, self.s2, self.d1, self.d2, self.r1, self.r2
        e, c = self.e, self.c
        floor_sg = 0.3 * self.sg
        gb, sg, p2, ib, n_clear = self.gb, self.sg, self.p2, self.ib, self.n_clear
        inv_meal, inv_ins, inv_tau = 1.0 / self.t_meal, 1.0 / self.t_ins, 1.0 / self.tau
        inv_rescue = 1.0 / RESCUE_PEAK_MINUTES
        k_sec, endo, basal_in = self.k_sec, self.endo_basal, self.basal_in
        counter, uptake = self.counter, self.uptake
        for t in range(steps):
            now = self.minute + t
            if t in has_carbs:
                d1 = d1 + carbs[t]
            if t in has_bolus:
                s1 = s1 + bolus[t]
                self.last_bolus = np.where(bolus[t] > 0, now, self.last_bolus)
            if t % DECISION_EVERY_MINUTES == 0:
                r1, s1 = self._decide(t, now, ig, inputs.asleep[t], chance, r1, s1)
            ra = d2 * inv_meal + r2 * inv_rescue
            clearance = np.maximum(sg + x, floor_sg)
            dg = (
                egp[t]
                - clearance * g
                + ra
                + counter * np.maximum(COUNTER_REGULATION_MG_DL - g, 0.0)
            )
            dg -= RENAL_RATE_PER_MIN * np.maximum(g - RENAL_THRESHOLD_MG_DL, 0.0)
            if t in has_exercise:
                dg -= uptake * exercising[t] * g
                e = e + exercising[t] / 60.0
            sens = si_t[t] * (1.0 + self.sensitise * e)
            x = x + p2 * (sens * (i - ib) - x)
            secretion = k_sec * np.maximum(g - gb, 0.0)
            y = y + SECRETION_RATE_PER_MIN * (secretion - y)
            i = i + s2 * inv_ins - n_clear * i + endo + y
            s2 = s2 + (s1 - s2) * inv_ins
            s1 = s1 + basal_in - s1 * inv_ins
            d2 = d2 + (d1 - d2) * inv_meal
            d1 = d1 - d1 * inv_meal
            r2 = r2 + (r1 - r2) * inv_rescue
            r1 = r1 - r1 * inv_rescue
            e = e - e / EXERCISE_MEMORY_MINUTES
            c = c + (inputs.compression[t] - c) / COMPRESSION_ONSET_MINUTES
            ig = ig + (g - ig) * inv_tau
            g = np.maximum(g + dg, 10.0)
            glucose[t + 1], interstitial[t + 1], compression[t + 1] = g, ig, c
        self.g, self.ig, self.x, self.i, self.y = g, ig, x, i, y
        self.s1, self.s2, self.d1, self.d2, self.r1, self.r2 = s1, s2, d1, d2, r1, r2
        self.e, self.c = e, c
        self.minute += steps
        return Traces(glucose, interstitial, compression)

    def _decide(
        self,
        t: int,
        now: int,
        ig: Array,
        asleep: Array,
        chance: Array,
        r1: Array,
        s1: Array,
    ) -> tuple[Array, Array]:
        """Hypo treatment and correction boluses, decided every few minutes."""
        u = chance[t // DECISION_EVERY_MINUTES]
        awake = asleep < 0.5
        low = ig < self.treat_below
        # Asleep, a low is noticed only when it wakes the patient (more likely when deeper).
        woken = (ig < 60.0) & (u < 0.1 + 0.4 * (ig < 50.0))
        treat = low & (awake | woken) & (now - self.last_rescue >= 30.0)
        if treat.any():
            grams = 15.0 + 10.0 * u
            r1 = r1 + np.where(treat, grams * self.carb_to_mg_dl, 0.0)
            self.last_rescue = np.where(treat, now, self.last_rescue)
        high = self.t1 & awake & (ig > self.correct_above) & (now - self.last_bolus >= 180.0)
        correct = high & (u > 0.85)
        if correct.any():
            isf = np.where(self.t1, self.isf, 1.0)
            dose = np.where(correct, 0.8 * (ig - CORRECTION_TARGET_MG_DL) / isf, 0.0)
            s1 = s1 + dose * self.unit_to_micro_u_ml
            self.last_bolus = np.where(correct, now, self.last_bolus)
        return r1, s1


_PARAMETER_NAMES = [
    "body_weight_kg",
    "basal_glucose_mg_dl",
    "glucose_effectiveness_per_min",
    "insulin_sensitivity",
    "insulin_action_rate_per_min",
    "insulin_clearance_per_min",
    "basal_insulin_micro_u_ml",
    "secretion_gain",
    "meal_peak_minutes",
    "insulin_peak_minutes",
    "interstitial_lag_minutes",
    "dawn_amplitude",
    "morning_resistance",
    "counter_regulation_per_min",
    "exercise_uptake_per_min",
    "exercise_sensitisation",
    "basal_rate_u_per_h",
    "correction_factor_mg_dl_per_u",
    "correction_threshold_mg_dl",
    "hypo_treatment_threshold_mg_dl",
]
